from brokerform.lint.model import Issue, Rule
from brokerform.lint.options import count


def replication_settings(ctx):
    """(path, resource path, target, replication factor, min.insync.replicas) of channels and topics."""
    for name, channel, target in ctx.channels("kafka"):
        yield (("channels", name), target, channel.replication_factor, channel.min_insync_replicas,
               ("replication_factor",), ("min_insync_replicas",))
    for tname, target in ctx.targets("kafka"):
        for topic_name, topic in target.topics.items():
            isr = topic.configs.get("min.insync.replicas")
            yield (("targets", tname, "topics", topic_name), target, topic.replication_factor,
                   int(isr) if isr is not None else None,
                   ("replication_factor",), ("configs", "min.insync.replicas"))


class ReplicationFactorLow(Rule):
    id = "BF405"
    name = "replication-factor-low"
    title = "Kafka replication factor below 3"
    severity = "warning"
    rationale = """With fewer than 3 replicas a topic cannot lose a broker and still accept acks=all
    writes with min.insync.replicas=2; with 1 replica a broker failure loses data. Environment-aware:
    an error in production, info in development (single-broker dev clusters are normal)."""
    fix = "Use replication_factor: 3 (and min_insync_replicas: 2) in production."
    source = "Confluent: Kafka production deployment checklist (replication)"
    url = "https://docs.confluent.io/platform/current/kafka/post-deployment.html#replication-factor"
    brokers = ("kafka",)
    options = {"min_replication_factor": count(3)}

    def check(self, ctx):
        least = ctx.options["min_replication_factor"]
        for resource, target, rf, _isr, rf_field, _ in replication_settings(ctx):
            if rf is not None and rf < least:
                yield Issue(resource + rf_field, f"replication factor {rf} is below {least}",
                            resource=resource,
                            severity=ctx.by_environment(target, prod="error", dev="info", other="warning"))
