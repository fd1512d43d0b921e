from brokerform.lint.model import Issue, Rule


class SqsShortPolling(Rule):
    id = "BF409"
    name = "sqs-short-polling"
    title = "SQS queue with short polling"
    severity = "info"
    rationale = """With a receive wait time of 0 every ReceiveMessage returns at once, mostly empty:
    idle consumers make (and pay for) many empty requests and may miss messages on a sampled
    server subset. Long polling (up to 20 s) waits for messages."""
    fix = "Set `receive_wait_time: 20s` on the queue."
    source = "Amazon SQS Developer Guide: short and long polling"
    url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html"
    brokers = ("aws",)

    def check(self, ctx):
        for tname, target in ctx.targets("aws"):
            dlqs = {q.redrive.dead_letter_queue for q in target.queues.values() if q.redrive}
            for qname, queue in target.queues.items():
                if not queue.receive_wait_time and qname not in dlqs:
                    yield Issue(("targets", tname, "queues", qname, "receive_wait_time"),
                                f"queue {qname!r} uses short polling (receive_wait_time 0)",
                                resource=("targets", tname, "queues", qname))
