from brokerform.lint.model import Issue, Rule
from brokerform.lint.rules.broker_specific._rabbit import all_policies, applies_to_queue


class QuorumRejectPublishDlx(Rule):
    id = "BF605"
    name = "quorum-reject-publish-dlx"
    title = "Quorum queue with overflow reject-publish-dlx"
    severity = "error"
    rationale = """Quorum queues do not support the reject-publish-dlx overflow behaviour (only
    drop-head and reject-publish); the declaration fails, or with a policy the setting is ignored."""
    fix = "Use `overflow: reject-publish` (back-pressure) or `drop-head` with dead-lettering."
    source = "RabbitMQ documentation: Quorum Queues (feature matrix: overflow)"
    url = "https://www.rabbitmq.com/docs/quorum-queues#feature-matrix"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for tname, target in ctx.targets("rabbitmq"):
            for qname, queue in target.queues.items():
                if queue.type != "quorum":
                    continue
                base = ("targets", tname, "queues", qname)
                if queue.overflow == "reject-publish-dlx" or queue.arguments.get("x-overflow") == "reject-publish-dlx":
                    where = base + (("overflow",) if queue.overflow else ("arguments", "x-overflow"))
                    yield Issue(where, f"quorum queue {qname!r} cannot use reject-publish-dlx", resource=base)
            for kind, pname, policy in all_policies(target):
                if policy.definition.get("overflow") != "reject-publish-dlx":
                    continue
                hits = policy.apply_to == "quorum_queues" or any(
                    q.type == "quorum" and applies_to_queue(policy, n, q.type) for n, q in target.queues.items())
                if hits:
                    yield Issue(("targets", tname, kind, pname, "definition", "overflow"),
                                f"policy {pname!r} sets reject-publish-dlx on quorum queues",
                                resource=("targets", tname, kind, pname))
