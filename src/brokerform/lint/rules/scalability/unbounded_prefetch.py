from brokerform.lint.model import Issue, Rule


class UnboundedPrefetch(Rule):
    id = "BF410"
    name = "unbounded-prefetch"
    title = "Consumers with an unbounded prefetch"
    severity = "warning"
    rationale = """A prefetch of 0 lets the broker push every ready message to the first consumer that connects:
    its memory grows with the queue, the other consumers starve and a crash redelivers the whole backlog.
    A bounded prefetch (tens to a few hundred) keeps work spread over the consumers."""
    fix = "Set `client.prefetch` to a bounded value, e.g. 50, and tune it with the consumer's processing time."
    source = "brokerform design brief: Best Practices (Prefetch settings); RabbitMQ consumer prefetch"
    url = "https://www.rabbitmq.com/docs/consumer-prefetch"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            if channel.client is not None and channel.client.prefetch == 0:
                yield Issue(("channels", name, "client", "prefetch"),
                            f"consumers of channel {name!r} prefetch without a limit", resource=("channels", name))
