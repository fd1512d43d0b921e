from brokerform.lint.model import Issue, Rule
from brokerform.model.units import format_duration_ms

SQS_DEFAULT_RETENTION_MS = 4 * 86_400_000


class DlqRetentionShorter(Rule):
    id = "BF204"
    name = "dlq-retention-shorter-than-source"
    title = "Dead-letter retention shorter than the source's"
    severity = "warning"
    rationale = """Dead letters are what you investigate after an incident; they must outlive the
    messages they came from. On SQS a message's expiry keeps its original enqueue time, so a DLQ whose
    retention is not longer than the source queue's deletes dead letters almost at once."""
    fix = "Make the DLQ retention (dead_letter.ttl / the DLQ's retention) longer than the source's."
    source = "AWS SQS Developer Guide: dead-letter queues (retention period)"
    url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            dl = channel.dead_letter
            source = channel.ttl or (channel.requirements.retention if channel.requirements else None)
            if dl is not None and dl.enabled and dl.ttl is not None and source is not None and dl.ttl <= source:
                yield Issue(("channels", name, "dead_letter", "ttl"),
                            f"dead letters of {name!r} are kept {format_duration_ms(dl.ttl)}, not longer than "
                            f"the channel's {format_duration_ms(source)}",
                            resource=("channels", name))
        for tname, target in ctx.targets("aws"):
            for qname, queue in target.queues.items():
                if queue.redrive is None:
                    continue
                dlq = target.queues.get(queue.redrive.dead_letter_queue)
                if dlq is None:
                    continue
                src = queue.retention or SQS_DEFAULT_RETENTION_MS
                dst = dlq.retention or SQS_DEFAULT_RETENTION_MS
                if dst <= src:
                    yield Issue(("targets", tname, "queues", qname, "redrive", "dead_letter_queue"),
                                f"DLQ {queue.redrive.dead_letter_queue!r} keeps messages {format_duration_ms(dst)}, "
                                f"not longer than {qname!r} ({format_duration_ms(src)})",
                                resource=("targets", tname, "queues", qname))
