from brokerform.lint.context import matches
from brokerform.lint.model import Issue, Rule


class QueueWithoutMaxLength(Rule):
    id = "BF203"
    name = "queue-without-max-length"
    title = "RabbitMQ queue without a length limit"
    severity = "warning"
    rationale = """A queue without max-length or max-length-bytes grows without bound when consumers fall
    behind, until memory or disk alarms block every publisher on the node. A limit with an overflow
    behaviour (reject-publish for back-pressure) keeps the failure local to one queue."""
    fix = "Set `max_length` (channel) or `max_length`/`max_length_bytes` (queue), or a max-length policy."
    source = "RabbitMQ documentation: Queue Length Limit"
    url = "https://www.rabbitmq.com/docs/maxlength"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for name, channel, _ in ctx.channels("rabbitmq"):
            limited = channel.max_length is not None or any(
                s.max_length is not None for s in channel.subscriptions.values())
            if not limited:
                yield Issue(("channels", name), f"channel {name!r} has no max_length")
        for tname, target in ctx.targets("rabbitmq"):
            policies = list(target.policies.values()) + list(target.operator_policies.values())
            for qname, queue in target.queues.items():
                if queue.type == "stream":
                    continue
                if queue.max_length is not None or queue.max_length_bytes is not None:
                    continue
                if {"x-max-length", "x-max-length-bytes"} & set(queue.arguments):
                    continue
                if any(matches(p.pattern, qname) and {"max-length", "max-length-bytes"} & set(p.definition)
                       for p in policies):
                    continue
                yield Issue(("targets", tname, "queues", qname), f"queue {qname!r} has no length limit")
