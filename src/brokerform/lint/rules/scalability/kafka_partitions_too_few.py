import math

from brokerform.lint.model import Issue, Rule
from brokerform.lint.options import rate, size


class KafkaPartitionsTooFew(Rule):
    id = "BF403"
    name = "kafka-partitions-too-few"
    title = "Kafka partitions too few for the declared throughput or consumers"
    severity = "warning"
    rationale = """A partition is consumed by one member of a group at a time, so partitions cap
    consumer parallelism: consumers beyond the partition count sit idle, and a throughput beyond what
    one consumer per partition handles builds lag. Partitions can be added later, but that reshuffles
    keys and breaks per-key ordering."""
    fix = "Raise `partitions` to at least max(consumers, throughput / per-partition throughput)."
    source = "Confluent: How to choose the number of topics/partitions in a Kafka cluster"
    url = "https://www.confluent.io/blog/how-choose-number-topics-partitions-kafka-cluster/"
    brokers = ("kafka",)
    options = {"partition_throughput": size("10MB"), "partition_messages_per_second": rate(5000)}

    def check(self, ctx):
        per_partition_bytes = ctx.options["partition_throughput"]
        per_partition_msgs = ctx.options["partition_messages_per_second"]
        for name, channel, _ in ctx.channels("kafka"):
            req = channel.requirements
            if channel.partitions is None or req is None:
                continue
            needed, why = 0, ""
            if req.consumers and req.consumers > needed:
                needed, why = req.consumers, f"{req.consumers} consumers"
            if req.throughput:
                by_count = math.ceil(req.throughput / per_partition_msgs)
                by_bytes = math.ceil(req.throughput * (req.message_size or 0) / per_partition_bytes)
                if max(by_count, by_bytes) > needed:
                    needed, why = max(by_count, by_bytes), f"{req.throughput:g} msg/s"
            if channel.partitions < needed:
                yield Issue(("channels", name, "partitions"),
                            f"channel {name!r} has {channel.partitions} partition(s) but {why} need at least {needed}",
                            resource=("channels", name))
