from brokerform.lint.model import Issue, Rule


class SchemaWithoutVersion(Rule):
    id = "BF102"
    name = "schema-without-version"
    title = "Message schema without a version"
    severity = "warning"
    rationale = """A schema without a version cannot evolve safely: consumers cannot tell which shape
    they receive and compatibility checks have nothing to compare. Schema versioning is the first
    message-design best practice."""
    fix = "Set `contract.version` (semantic version, e.g. 1.0.0) and put the version in a message header."
    source = "brokerform design brief: Best Practices (Message Design: Schema versioning)"
    url = "https://docs.confluent.io/platform/current/schema-registry/fundamentals/schema-evolution.html"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            contract = channel.contract
            if contract is not None and contract.schema_file is not None and not contract.version:
                yield Issue(("channels", name, "contract"), f"the schema of channel {name!r} has no version",
                            resource=("channels", name))
