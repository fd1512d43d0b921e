from brokerform.lint.model import Issue, Rule
from brokerform.lint.rules.scalability.replication_factor_low import replication_settings


class MinInsyncReplicas(Rule):
    id = "BF406"
    name = "min-insync-replicas-not-below-replication"
    title = "min.insync.replicas not below the replication factor"
    severity = "error"
    rationale = """With min.insync.replicas equal to the replication factor, a single broker restart
    makes every acks=all write fail (NotEnoughReplicas); above it, writes never succeed. Keep it one
    (or more) below the replication factor, typically RF 3 / min ISR 2."""
    fix = "Set min_insync_replicas to replication_factor - 1 (e.g. 2 with 3 replicas)."
    source = "Apache Kafka documentation: min.insync.replicas"
    url = "https://kafka.apache.org/documentation/#topicconfigs_min.insync.replicas"
    brokers = ("kafka",)

    def check(self, ctx):
        for resource, target, rf, isr, _, isr_field in replication_settings(ctx):
            if rf is not None and isr is not None and isr >= rf and rf > 1:
                severity = "error" if isr > rf or ctx.is_production(target) else "warning"
                yield Issue(resource + isr_field, f"min.insync.replicas {isr} with replication factor {rf}: "
                            + ("writes with acks=all always fail" if isr > rf else "one broker down blocks writes"),
                            resource=resource, severity=severity)
