from brokerform.lint.model import Issue, Rule


class SqsDlqWithoutRedriveAllow(Rule):
    id = "BF612"
    name = "sqs-dlq-without-redrive-allow"
    title = "SQS dead-letter queue without a redrive allow policy"
    severity = "info"
    rationale = """Without a redrive allow policy any queue in the account may use the DLQ as its own,
    mixing unrelated failures. `byQueue` with the source queues documents and enforces which queues
    dead-letter into it."""
    fix = "Set `redrive_allow: {permission: byQueue, source_queues: [<source queue>]}` on the DLQ."
    source = "Amazon SQS API Reference: RedriveAllowPolicy"
    url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html"
    brokers = ("aws",)

    def check(self, ctx):
        for tname, target in ctx.targets("aws"):
            sources: dict[str, list[str]] = {}
            for qname, queue in target.queues.items():
                if queue.redrive is not None:
                    sources.setdefault(queue.redrive.dead_letter_queue, []).append(qname)
            for dlq_name, from_queues in sources.items():
                dlq = target.queues.get(dlq_name)
                if dlq is None:
                    continue
                allow = dlq.redrive_allow
                if allow is None or allow.permission == "allowAll":
                    where = ("targets", tname, "queues", dlq_name) + (("redrive_allow",) if allow else ())
                    yield Issue(where, f"DLQ {dlq_name!r} accepts dead letters from any queue "
                                f"(used by {', '.join(sorted(from_queues))})",
                                resource=("targets", tname, "queues", dlq_name))
