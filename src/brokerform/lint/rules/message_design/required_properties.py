from brokerform.lint.model import Issue, Rule
from brokerform.lint.options import strings


class RequiredPropertiesNotDeclared(Rule):
    id = "BF106"
    name = "required-properties-not-declared"
    title = "Required message properties not declared"
    severity = "info"
    rationale = """Every message needs a message id (de-duplication, tracing), a timestamp (age, TTL
    decisions) and a content type (safe decoding); replies also need a correlation id. Declaring them
    in the contract lets producers be checked and consumers rely on them."""
    fix = "List them in `contract.required_properties`, e.g. [message-id, timestamp, content-type]."
    source = "brokerform design brief: Message Properties (Required Properties)"
    url = "https://www.rabbitmq.com/docs/publishers#message-properties"
    options = {"required": strings(["message-id", "timestamp", "content-type"]),
               "request_reply": strings(["correlation-id"])}

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            if channel.contract is None:
                continue
            wanted = list(ctx.options["required"])
            if channel.pattern == "request-reply":
                wanted += list(ctx.options["request_reply"])
            missing = [p for p in wanted if p not in channel.contract.required_properties]
            if missing:
                yield Issue(("channels", name, "contract"),
                            f"channel {name!r} does not require message properties: {', '.join(missing)}",
                            resource=("channels", name))
