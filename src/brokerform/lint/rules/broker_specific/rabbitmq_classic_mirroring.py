from brokerform.lint.model import Issue, Rule
from brokerform.lint.rules.broker_specific._rabbit import all_policies


class RabbitmqClassicMirroring(Rule):
    id = "BF601"
    name = "rabbitmq-classic-mirroring"
    title = "Deprecated classic queue mirroring (ha-* policy keys)"
    severity = "error"
    rationale = """Classic queue mirroring (ha-mode, ha-params, ha-sync-mode...) was deprecated in
    RabbitMQ 3.9 and removed in 4.0: the keys are ignored, so the queues are silently not replicated
    any more. Quorum queues (or streams) are the replicated queue types."""
    fix = "Migrate mirrored classic queues to quorum queues and delete the ha-* keys."
    source = "RabbitMQ documentation: Classic Queue Mirroring (removed in 4.0)"
    url = "https://www.rabbitmq.com/docs/3.13/ha"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for tname, target in ctx.targets("rabbitmq"):
            for kind, pname, policy in all_policies(target):
                keys = sorted(k for k in policy.definition if k.startswith("ha-"))
                if keys:
                    yield Issue(("targets", tname, kind, pname, "definition", keys[0]),
                                f"policy {pname!r} uses classic mirroring ({', '.join(keys)})",
                                resource=("targets", tname, kind, pname))
            for qname, queue in target.queues.items():
                keys = sorted(k for k in queue.arguments if k.startswith("x-ha-"))
                if keys:
                    yield Issue(("targets", tname, "queues", qname, "arguments", keys[0]),
                                f"queue {qname!r} uses classic mirroring arguments", resource=("targets", tname, "queues", qname))
