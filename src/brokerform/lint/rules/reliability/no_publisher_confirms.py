from brokerform.lint.model import Issue, Rule


class NoPublisherConfirms(Rule):
    id = "BF211"
    name = "at-least-once-without-publisher-confirms"
    title = "At-least-once channel whose producers do not wait for the broker"
    severity = "warning"
    rationale = """At-least-once starts at the producer: without publisher confirms (RabbitMQ), acks=all (Kafka)
    or a checked send result, a message the broker never stored is lost silently and no consumer-side
    retry or dead-letter queue can bring it back."""
    fix = "Set `client.publisher_confirms: true` and make producers wait for (and retry on) the acknowledgement."
    source = "brokerform design brief: Reliability Patterns (At-least-once → Acknowledgment)"
    url = "https://www.rabbitmq.com/docs/confirms"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            delivery = channel.requirements.delivery if channel.requirements else None
            if delivery in ("at-least-once", "exactly-once") and channel.client is not None \
                    and channel.client.publisher_confirms is False:
                yield Issue(("channels", name, "client", "publisher_confirms"),
                            f"channel {name!r} needs {delivery} but its producers do not wait for confirms",
                            resource=("channels", name))
