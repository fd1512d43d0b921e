from brokerform.lint.model import Issue, Rule


class ExactlyOnceUnsupported(Rule):
    id = "BF207"
    name = "exactly-once-unsupported"
    title = "Exactly-once requested on a broker or configuration that cannot provide it"
    severity = "error"
    rationale = """RabbitMQ and SQS standard queues deliver at least once; no configuration makes them
    exactly-once. Kafka needs idempotent producers and transactions (read_committed consumers), SQS
    needs a FIFO queue with de-duplication, and Service Bus needs duplicate detection. Declaring
    exactly-once where it cannot hold hides the need for idempotent consumers."""
    fix = "Declare at-least-once with idempotent consumers, or use a broker feature that supports it."
    source = "brokerform design brief: Delivery Strategies (Exactly-once: Deduplication)"
    url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-exactly-once-processing.html"

    def check(self, ctx):
        for name, channel, target in ctx.channels():
            req = channel.requirements
            if req is None or req.delivery != "exactly-once":
                continue
            reason = _why_not(target.type, channel)
            if reason:
                yield Issue(("channels", name, "requirements", "delivery"),
                            f"channel {name!r} requests exactly-once, but {reason}",
                            resource=("channels", name))


def _why_not(broker: str, channel) -> str | None:
    if broker == "rabbitmq":
        return "RabbitMQ delivers at least once; make consumers idempotent"
    fifo = channel.ordering is not None and channel.ordering.mode == "fifo"
    if broker == "aws" and not fifo:
        return "SQS standard queues deliver at least once; use ordering.mode fifo with duplicate_detection"
    if broker in ("aws", "azure-servicebus") and channel.duplicate_detection is None:
        return "no duplicate_detection window is declared"
    return None
