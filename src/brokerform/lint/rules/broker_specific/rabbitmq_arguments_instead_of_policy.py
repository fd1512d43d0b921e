from brokerform.lint.model import Issue, Rule

POLICY_CAPABLE = {
    "x-message-ttl", "x-expires", "x-max-length", "x-max-length-bytes", "x-overflow",
    "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-dead-letter-strategy",
    "x-delivery-limit", "x-max-age", "x-stream-max-segment-size-bytes", "x-queue-leader-locator",
}
TYPED_FIELDS = ("message_ttl", "expires", "max_length", "max_length_bytes", "overflow",
                "dead_letter_exchange", "delivery_limit")


class RabbitmqArgumentsInsteadOfPolicy(Rule):
    id = "BF603"
    name = "rabbitmq-arguments-instead-of-policy"
    title = "Queue settings as x-arguments that a policy could hold"
    severity = "info"
    rationale = """Optional queue arguments are fixed when the queue is declared: changing a TTL or a
    length limit later means deleting the queue (and its messages) or a client/server mismatch error.
    Policies hold the same settings and can be changed at any time. Raw `arguments` are a warning;
    typed fields (which also become x-arguments) are info."""
    fix = "Move TTL, length limits and dead-lettering into a policy matching the queue."
    source = "RabbitMQ documentation: Policies (why policies exist)"
    url = "https://www.rabbitmq.com/docs/policies#why-policies-exist"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for tname, target in ctx.targets("rabbitmq"):
            for qname, queue in target.queues.items():
                base = ("targets", tname, "queues", qname)
                raw = sorted(POLICY_CAPABLE & set(queue.arguments))
                if raw:
                    yield Issue(base + ("arguments", raw[0]),
                                f"queue {qname!r} sets {', '.join(raw)} as x-arguments; a policy can change them later",
                                resource=base, severity="warning")
                typed = [f for f in TYPED_FIELDS if getattr(queue, f) is not None]
                if typed:
                    yield Issue(base + (typed[0],),
                                f"queue {qname!r} fixes {', '.join(typed)} at declaration; a policy can change them later",
                                resource=base)
