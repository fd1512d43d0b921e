from brokerform.lint.model import Issue, Rule


class KafkaPartitionsNotMultiple(Rule):
    id = "BF404"
    name = "kafka-partitions-not-multiple-of-consumers"
    title = "Kafka partitions not a multiple of the consumer count"
    severity = "info"
    rationale = """Partitions are spread over the members of a consumer group; when the count is not a
    multiple of the consumers, some consumers get one partition more than others and become the
    bottleneck (e.g. 8 partitions over 3 consumers: 3/3/2)."""
    fix = "Choose a partition count divisible by the expected consumer count (12 fits 1, 2, 3, 4, 6, 12)."
    source = "Apache Kafka documentation: consumer group partition assignment"
    url = "https://kafka.apache.org/documentation/#consumerconfigs_partition.assignment.strategy"
    brokers = ("kafka",)

    def check(self, ctx):
        for name, channel, _ in ctx.channels("kafka"):
            req = channel.requirements
            consumers = req.consumers if req is not None else None
            if channel.partitions and consumers and channel.partitions >= consumers and channel.partitions % consumers:
                yield Issue(("channels", name, "partitions"),
                            f"{channel.partitions} partitions over {consumers} consumers is uneven",
                            resource=("channels", name))
