from brokerform.lint.model import Issue, Rule
from brokerform.lint.rules.broker_specific._timeouts import ack_timeout_issues

SQS_DEFAULT_VISIBILITY_MS = 30_000


class SqsVisibilityTimeoutShort(Rule):
    id = "BF611"
    name = "sqs-visibility-timeout-short"
    title = "SQS visibility timeout shorter than the processing time"
    severity = "warning"
    rationale = """A message becomes visible again when its visibility timeout ends, even while a consumer
    is still processing it: another consumer processes it too. Set the timeout above the worst-case
    processing time (the default is 30 s); a timeout of 0 redelivers at once."""
    fix = "Set `ack_timeout` (VisibilityTimeout) above the processing time, or extend it while processing."
    source = "Amazon SQS Developer Guide: visibility timeout"
    url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html"
    brokers = ("aws",)

    def check(self, ctx):
        yield from ack_timeout_issues(ctx, "aws", SQS_DEFAULT_VISIBILITY_MS, "visibility timeout")
        for tname, target in ctx.targets("aws"):
            for qname, queue in target.queues.items():
                if queue.visibility_timeout == 0:
                    yield Issue(("targets", tname, "queues", qname, "visibility_timeout"),
                                f"queue {qname!r} has a visibility timeout of 0: every receive redelivers at once",
                                resource=("targets", tname, "queues", qname))
