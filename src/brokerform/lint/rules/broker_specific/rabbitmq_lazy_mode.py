from brokerform.lint.model import Issue, Rule
from brokerform.lint.rules.broker_specific._rabbit import all_policies


class RabbitmqLazyMode(Rule):
    id = "BF602"
    name = "rabbitmq-lazy-mode"
    title = "Obsolete queue-mode: lazy"
    severity = "warning"
    rationale = """Since RabbitMQ 3.12 classic queues (version 2) always page messages to disk like lazy
    queues did; `queue-mode` / `x-queue-mode` is ignored. Keeping it suggests a behaviour that no
    longer exists."""
    fix = "Delete `queue-mode` from policies and `x-queue-mode` from queue arguments."
    source = "RabbitMQ documentation: Lazy Queues (ignored since 3.12)"
    url = "https://www.rabbitmq.com/docs/lazy-queues"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for tname, target in ctx.targets("rabbitmq"):
            for kind, pname, policy in all_policies(target):
                if "queue-mode" in policy.definition:
                    yield Issue(("targets", tname, kind, pname, "definition", "queue-mode"),
                                f"policy {pname!r} sets queue-mode, which RabbitMQ ignores since 3.12",
                                resource=("targets", tname, kind, pname))
            for qname, queue in target.queues.items():
                if "x-queue-mode" in queue.arguments:
                    yield Issue(("targets", tname, "queues", qname, "arguments", "x-queue-mode"),
                                f"queue {qname!r} sets x-queue-mode, which RabbitMQ ignores since 3.12",
                                resource=("targets", tname, "queues", qname))
