from brokerform.lint.model import Issue, Rule


class ChannelWithoutSchema(Rule):
    id = "BF101"
    name = "channel-without-schema"
    title = "Channel without a message schema"
    severity = "warning"
    rationale = """Without a declared schema, producers and consumers agree on the message format only
    by convention; a field rename in one service silently breaks the others, and nobody can validate
    messages at the edge. "No message schema" is one of the anti-patterns to avoid."""
    fix = "Add `contract: {schema: schemas/<name>.schema.json, format: json-schema, version: 1.0.0}`."
    source = "brokerform design brief: Anti-patterns to Avoid (No message schema)"
    url = "https://www.asyncapi.com/docs/concepts/message"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            if channel.contract is None or channel.contract.schema_file is None:
                yield Issue(("channels", name), f"channel {name!r} declares no message schema (contract.schema)")
