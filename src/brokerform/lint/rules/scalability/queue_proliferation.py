from brokerform.lint.model import Issue, Rule
from brokerform.lint.options import count


def queue_count(ctx, tname: str, target) -> int:
    """Queues a target will hold: native ones plus those its channels compile to (one per consumer side)."""
    count = len(target.queues) if target.type != "kafka" else len(target.topics)
    if target.type == "azure-servicebus":
        count += len(target.topics) + sum(len(t.subscriptions) for t in target.topics.values())
    if target.type == "aws":
        count += len(target.topics)
    for _, channel, _ in ctx.channels(target.type):
        if channel.target != tname:
            continue
        count += len(channel.subscriptions) if channel.pattern == "pubsub" else 1
        if channel.dead_letter is not None and channel.dead_letter.enabled and target.type != "azure-servicebus":
            count += 1
        if channel.pattern == "request-reply":
            count += 1
    return count


class QueueProliferation(Rule):
    id = "BF401"
    name = "queue-proliferation"
    title = "Too many queues in one vhost/namespace"
    severity = "warning"
    rationale = """Thousands of queues per vhost or namespace are hard to monitor, slow definitions
    import/export and failover, and usually mean a queue per entity (per customer, per instance)
    where routing keys, filters or partitions would do. Service Bus also caps entities per namespace."""
    fix = "Consolidate: route with keys/filters into fewer queues, or split the namespace by domain."
    source = "brokerform design brief: Anti-patterns to Avoid (Queue proliferation)"
    url = "https://www.cloudamqp.com/blog/part1-rabbitmq-best-practice.html#too-many-queues"
    options = {"max_queues": count(500)}

    def check(self, ctx):
        limit = ctx.options["max_queues"]
        for tname, target in ctx.targets():
            count = queue_count(ctx, tname, target)
            if count > limit:
                kind = "topics" if target.type == "kafka" else "queues/entities"
                yield Issue(("targets", tname), f"target {tname!r} holds about {count} {kind} (more than {limit})")
