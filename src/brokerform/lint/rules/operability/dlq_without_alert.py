from brokerform.lint.model import Issue, Rule


class DlqWithoutAlert(Rule):
    id = "BF506"
    name = "dlq-without-alert"
    title = "Dead-letter queue nobody is alerted about"
    severity = "warning"
    rationale = """Dead letters are failed business operations. A DLQ without an alert fills up
    silently until its retention deletes the evidence; the error-handling chain is Retry -> DLQ ->
    Process/Alert."""
    fix = "Keep `dead_letter.alert: true` and `monitoring.dlq_not_empty: true`."
    source = "brokerform design brief: Error Handling (DLQ -> Process/Alert)"
    url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            dl = channel.dead_letter
            if dl is None or not dl.enabled:
                continue
            if not dl.alert:
                yield Issue(("channels", name, "dead_letter", "alert"), f"dead letters of {name!r} raise no alert",
                            resource=("channels", name))
            elif channel.monitoring is not None and not channel.monitoring.dlq_not_empty:
                yield Issue(("channels", name, "monitoring", "dlq_not_empty"),
                            f"dead letters of {name!r} raise no alert", resource=("channels", name))
