from brokerform.lint.model import Issue, Rule


class AtLeastOnceWithoutIdempotency(Rule):
    id = "BF206"
    name = "at-least-once-without-idempotency"
    title = "At-least-once delivery without idempotent consumers or duplicate detection"
    severity = "warning"
    rationale = """At-least-once means duplicates: a consumer that crashes after processing but before
    acknowledging gets the message again. Without idempotent consumers (de-duplication by message id)
    or broker-side duplicate detection, duplicates become double charges and double emails."""
    fix = "Set `requirements.idempotent_consumers: true` (and require message-id), or `duplicate_detection`."
    source = "brokerform design brief: Reliability Patterns (Delivery Guarantees)"
    url = "https://www.enterpriseintegrationpatterns.com/patterns/messaging/IdempotentReceiver.html"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            req = channel.requirements
            if req is None or req.delivery != "at-least-once":
                continue
            if not req.idempotent_consumers and channel.duplicate_detection is None:
                yield Issue(("channels", name, "requirements", "delivery"),
                            f"channel {name!r} is at-least-once but consumers are not idempotent "
                            "and there is no duplicate detection",
                            resource=("channels", name))
