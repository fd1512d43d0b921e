from brokerform.lint.model import Issue, Rule
from brokerform.model.units import format_size_bytes

MIB = 1024 * 1024
KIB = 1024


def broker_limit(target, pattern: str) -> tuple[int, str]:
    """The largest message the broker accepts by default, and where that limit comes from."""
    if target.type == "rabbitmq":
        return 16 * MIB, "RabbitMQ 4.x default max_message_size"
    if target.type == "kafka":
        return 1 * MIB, "Kafka default message.max.bytes"
    if target.type == "azure-servicebus":
        if target.namespace_settings.sku == "Premium":
            return 100 * MIB, "Service Bus Premium limit"
        return 256 * KIB, f"Service Bus {target.namespace_settings.sku} limit"
    if pattern == "pubsub":
        return 256 * KIB, "SNS message size limit"
    return 1 * MIB, "SQS message size limit"


class MessageSizeBeyondLimit(Rule):
    id = "BF105"
    name = "message-size-beyond-broker-limit"
    title = "Declared message size beyond the broker's limit"
    severity = "error"
    rationale = """A message larger than the broker accepts is rejected at publish time, in production,
    with an error the producer rarely handles. The limits: Kafka 1 MiB (message.max.bytes), SNS 256 KiB,
    SQS 1 MiB, Service Bus Standard 256 KiB / Premium 100 MiB, RabbitMQ 16 MiB (4.x default)."""
    fix = "Reduce the message size (claim-check), or raise the broker limit and document it."
    source = "AWS SQS/SNS quotas, Azure Service Bus quotas, Kafka broker configs, RabbitMQ configuration"
    url = "https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-quotas"

    def check(self, ctx):
        for name, channel, target in ctx.channels():
            contract = channel.contract
            if contract is None or contract.max_message_size is None:
                continue
            limit, why = broker_limit(target, channel.pattern)
            if contract.max_message_size > limit:
                yield Issue(("channels", name, "contract", "max_message_size"),
                            f"channel {name!r} allows {format_size_bytes(contract.max_message_size)} messages; "
                            f"the {why} is {format_size_bytes(limit)}",
                            resource=("channels", name))
