from itertools import combinations

from brokerform.lint.context import matches
from brokerform.lint.model import Issue, Rule

QUEUE_SCOPES = {"queues", "classic_queues", "quorum_queues", "streams"}


def _scopes_overlap(a: str, b: str) -> bool:
    if "all" in (a, b) or a == b:
        return True
    if "queues" in (a, b):
        return {a, b} <= QUEUE_SCOPES
    return False


class RabbitmqOverlappingPolicies(Rule):
    id = "BF604"
    name = "rabbitmq-overlapping-policies"
    title = "Overlapping RabbitMQ policies at equal priority"
    severity = "warning"
    rationale = """Only one policy applies to a queue or exchange: the one with the highest priority.
    When two policies match the same object at the same priority, which one wins is undefined, and the
    other's settings (TTL, limits, dead-lettering) silently do not apply."""
    fix = "Give the more specific policy a higher priority, or merge the two definitions."
    source = "RabbitMQ documentation: Policies (priorities, and combining policy definitions)"
    url = "https://www.rabbitmq.com/docs/policies#priorities"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for tname, target in ctx.targets("rabbitmq"):
            names = list(target.queues) + list(target.exchanges) + list(ctx_channel_names(ctx, tname))
            for kind in ("policies", "operator_policies"):
                policies = getattr(target, kind)
                for (n1, p1), (n2, p2) in combinations(policies.items(), 2):
                    if p1.priority != p2.priority or not _scopes_overlap(p1.apply_to, p2.apply_to):
                        continue
                    shared = p1.pattern == p2.pattern or any(
                        matches(p1.pattern, n) and matches(p2.pattern, n) for n in names)
                    if shared:
                        yield Issue(("targets", tname, kind, n2, "priority"),
                                    f"policies {n1!r} and {n2!r} match the same objects at priority {p1.priority}",
                                    resource=("targets", tname, kind, n2))


def ctx_channel_names(ctx, tname: str):
    for name, channel, _ in ctx.channels("rabbitmq"):
        if channel.target == tname:
            yield channel.name or name
