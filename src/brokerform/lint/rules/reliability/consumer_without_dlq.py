from brokerform.lint.model import Issue, Rule


class ConsumerWithoutDlq(Rule):
    id = "BF201"
    name = "consumer-without-dlq"
    title = "Consumer queue or subscription without a dead-letter queue"
    severity = "warning"
    rationale = """A message that always fails (a poison message) is either redelivered forever, blocking
    the queue and burning CPU, or dropped. A dead-letter queue keeps it aside for inspection and replay.
    Channels that are explicitly at-most-once are exempt."""
    fix = "Add `dead_letter: {max_deliveries: 5}` to the channel (SQS: `redrive`; SNS: `dead_letter_queue`)."
    source = "brokerform design brief: Best Practices (Error Handling: Dead letter queues)"
    url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            if channel.requirements is not None and channel.requirements.delivery == "at-most-once":
                continue
            if channel.dead_letter is None or not channel.dead_letter.enabled:
                where = ("channels", name, "dead_letter") if channel.dead_letter else ("channels", name)
                yield Issue(where, f"channel {name!r} has consumers but no dead-letter queue",
                            resource=("channels", name))
        for tname, target in ctx.targets("aws"):
            dlqs = {q.redrive.dead_letter_queue for q in target.queues.values() if q.redrive}
            dlqs |= {s.dead_letter_queue for s in target.subscriptions.values() if s.dead_letter_queue}
            for qname, queue in target.queues.items():
                if queue.redrive is None and qname not in dlqs:
                    yield Issue(("targets", tname, "queues", qname),
                                f"SQS queue {qname!r} has no redrive policy (dead-letter queue)")
            for sname, sub in target.subscriptions.items():
                if sub.dead_letter_queue is None and sub.endpoint not in dlqs:
                    yield Issue(("targets", tname, "subscriptions", sname),
                                f"SNS subscription {sname!r} has no dead_letter_queue for undeliverable messages")
