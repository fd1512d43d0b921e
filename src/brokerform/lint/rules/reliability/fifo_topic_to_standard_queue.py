from brokerform.lint.model import Issue, Rule


class FifoSourceNonFifoTarget(Rule):
    id = "BF209"
    name = "fifo-source-non-fifo-target"
    title = "FIFO source with a non-FIFO queue or dead-letter queue"
    severity = "error"
    rationale = """Ordering and de-duplication end where a FIFO topic delivers to a standard queue or a
    subscription dead-letters into one; SNS FIFO topics can only deliver to SQS FIFO queues, and the
    DLQ of a FIFO subscription must be FIFO too."""
    fix = "Use a `.fifo` SQS queue as the subscription endpoint and dead-letter queue of a FIFO topic."
    source = "Amazon SNS Developer Guide: FIFO topics (message delivery)"
    url = "https://docs.aws.amazon.com/sns/latest/dg/fifo-message-delivery.html"
    brokers = ("aws",)

    def check(self, ctx):
        for tname, target in ctx.targets("aws"):
            for sname, sub in target.subscriptions.items():
                topic = target.topics.get(sub.topic)
                if topic is None or not topic.fifo:
                    continue
                for field in ("endpoint", "dead_letter_queue"):
                    queue_name = getattr(sub, field)
                    queue = target.queues.get(queue_name) if queue_name else None
                    if queue is not None and not queue.fifo:
                        yield Issue(("targets", tname, "subscriptions", sname, field),
                                    f"FIFO topic {sub.topic!r} delivers to standard queue {queue_name!r}",
                                    resource=("targets", tname, "subscriptions", sname))
