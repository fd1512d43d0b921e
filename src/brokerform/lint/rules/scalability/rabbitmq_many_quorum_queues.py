from brokerform.lint.model import Issue, Rule
from brokerform.lint.options import count


class RabbitmqManyQuorumQueues(Rule):
    id = "BF407"
    name = "rabbitmq-many-quorum-queues"
    title = "Many RabbitMQ quorum queues"
    severity = "warning"
    rationale = """Each quorum queue is a Raft group with its own log, memory and heartbeats on every
    replica; thousands of them slow node recovery and rolling upgrades. Beyond a few thousand,
    consolidate or use streams."""
    fix = "Consolidate queues (routing keys, fewer per-entity queues) or spread them over clusters."
    source = "RabbitMQ documentation: Quorum Queues (performance characteristics)"
    url = "https://www.rabbitmq.com/docs/quorum-queues#performance"
    brokers = ("rabbitmq",)
    options = {"max_quorum_queues": count(5000)}

    def check(self, ctx):
        limit = ctx.options["max_quorum_queues"]
        for tname, target in ctx.targets("rabbitmq"):
            default_quorum = target.vhost is not None and target.vhost.default_queue_type == "quorum"
            count = sum(1 for q in target.queues.values()
                        if q.type == "quorum" or (default_quorum and "type" not in q.model_fields_set))
            for _, channel, _ in ctx.channels("rabbitmq"):
                if channel.target == tname and default_quorum:
                    count += len(channel.subscriptions) if channel.pattern == "pubsub" else 1
            if count > limit:
                yield Issue(("targets", tname), f"target {tname!r} has about {count} quorum queues (more than {limit})")
