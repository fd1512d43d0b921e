from brokerform.lint.model import Issue, Rule
from brokerform.lint.options import size
from brokerform.model.units import format_size_bytes


class LargeMessages(Rule):
    id = "BF104"
    name = "large-messages"
    title = "Large message payloads (use claim-check)"
    severity = "warning"
    rationale = """Brokers are built for many small messages. Large payloads eat memory and network,
    slow replication and consumers, and hit hard limits (256 KiB on SNS and Service Bus Standard).
    Store the payload in object storage and send a reference (claim-check pattern)."""
    fix = "Keep messages small: put the payload in blob/object storage and send its URL (claim-check)."
    source = "brokerform design brief: Anti-patterns to Avoid (Large message payloads)"
    url = "https://learn.microsoft.com/en-us/azure/architecture/patterns/claim-check"
    options = {"max_message_size": size("256KiB")}

    def check(self, ctx):
        limit = ctx.options["max_message_size"]
        for name, channel, _ in ctx.channels():
            for path, size in _declared_sizes(channel):
                if size > limit:
                    yield Issue(("channels", name) + path,
                                f"channel {name!r} allows {format_size_bytes(size)} messages, above "
                                f"{format_size_bytes(limit)}: use the claim-check pattern",
                                resource=("channels", name))


def _declared_sizes(channel):
    if channel.contract is not None and channel.contract.max_message_size is not None:
        yield ("contract", "max_message_size"), channel.contract.max_message_size
    elif channel.requirements is not None and channel.requirements.message_size is not None:
        yield ("requirements", "message_size"), channel.requirements.message_size
