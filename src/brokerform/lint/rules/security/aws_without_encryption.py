from brokerform.lint.model import Issue, Rule


class AwsWithoutEncryption(Rule):
    id = "BF312"
    name = "aws-without-encryption"
    title = "SQS queue or SNS topic without encryption at rest"
    severity = "warning"
    rationale = """SNS topics are not encrypted unless a KMS key is set, and SQS server-side encryption
    can be turned off. Messages often carry personal data; encryption at rest (with a customer key
    for sensitive data) is a baseline control."""
    fix = "Set `sse: {enabled: true}` (or a kms_key) on queues and `kms_key: alias/...` on topics."
    source = "AWS Security Hub controls SQS.1 and SNS.1"
    url = "https://docs.aws.amazon.com/securityhub/latest/userguide/sns-controls.html"
    brokers = ("aws",)

    def check(self, ctx):
        for tname, target in ctx.targets("aws"):
            for qname, queue in target.queues.items():
                if queue.sse is not None and not queue.sse.enabled:
                    yield Issue(("targets", tname, "queues", qname, "sse", "enabled"),
                                f"queue {qname!r} has server-side encryption turned off",
                                resource=("targets", tname, "queues", qname))
            for topic_name, topic in target.topics.items():
                if not topic.kms_key:
                    yield Issue(("targets", tname, "topics", topic_name),
                                f"topic {topic_name!r} is not encrypted at rest (no kms_key)")
        for name, channel, _ in ctx.channels("aws"):
            if channel.encryption is not None and channel.encryption.at_rest is False:
                yield Issue(("channels", name, "encryption", "at_rest"),
                            f"channel {name!r} turns encryption at rest off", resource=("channels", name))
