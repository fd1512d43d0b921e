from brokerform.lint.model import Issue, Rule


class SchemaWithoutCompatibility(Rule):
    id = "BF103"
    name = "schema-without-compatibility"
    title = "Message schema without a compatibility mode"
    severity = "info"
    rationale = """Producers and consumers deploy independently. Declaring whether schema changes must be
    backward, forward or fully compatible tells reviewers (and a schema registry) which changes are
    allowed without a coordinated release."""
    fix = "Set `contract.compatibility` to backward, forward or full."
    source = "brokerform design brief: Best Practices (Backward/Forward compatibility)"
    url = "https://docs.confluent.io/platform/current/schema-registry/fundamentals/schema-evolution.html#compatibility-types"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            contract = channel.contract
            if contract is not None and contract.schema_file is not None and contract.compatibility is None:
                yield Issue(("channels", name, "contract"),
                            f"the schema of channel {name!r} declares no compatibility mode",
                            resource=("channels", name))
