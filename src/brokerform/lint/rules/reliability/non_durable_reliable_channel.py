from brokerform.lint.model import Issue, Rule


class NonDurableReliableChannel(Rule):
    id = "BF208"
    name = "non-durable-reliable-channel"
    title = "Non-durable queue for an at-least-once channel"
    severity = "error"
    rationale = """A non-durable queue disappears with its messages when the broker restarts. A channel
    that promises at-least-once (or exactly-once) delivery cannot keep that promise on it."""
    fix = "Remove `durable: false`, or declare the channel at-most-once."
    source = "RabbitMQ documentation: Queues (durability)"
    url = "https://www.rabbitmq.com/docs/queues#durability"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            req = channel.requirements
            if not channel.durable and req is not None and req.delivery in ("at-least-once", "exactly-once"):
                yield Issue(("channels", name, "durable"),
                            f"channel {name!r} is {req.delivery} but not durable", resource=("channels", name))
