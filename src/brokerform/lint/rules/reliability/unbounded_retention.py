from brokerform.lint.context import matches
from brokerform.lint.model import Issue, Rule


def _kafka_unbounded(configs: dict) -> bool:
    return str(configs.get("retention.ms", "")) == "-1" and str(configs.get("retention.bytes", "-1")) == "-1"


class UnboundedRetention(Rule):
    id = "BF202"
    name = "missing-message-ttl"
    title = "No message TTL or retention (unbounded growth)"
    severity = "warning"
    rationale = """Without a TTL, messages nobody consumes (a retired consumer, a forgotten subscription)
    accumulate until the broker runs out of memory or disk and blocks every publisher. Service Bus
    keeps messages forever by default; RabbitMQ queues have no TTL unless one is set; a Kafka topic with
    retention.ms=-1 and no retention.bytes never deletes."""
    fix = "Set `ttl` on the channel (or message_ttl / default_message_ttl / a TTL policy / retention.ms)."
    source = "brokerform design brief: Anti-patterns to Avoid (Missing message TTL)"
    url = "https://www.rabbitmq.com/docs/ttl"
    brokers = ("rabbitmq", "azure-servicebus", "kafka")

    def check(self, ctx):
        for name, channel, target in ctx.channels("rabbitmq", "azure-servicebus"):
            retention = channel.requirements.retention if channel.requirements else None
            if channel.ttl is None and retention is None:
                yield Issue(("channels", name), f"channel {name!r} has no message TTL")
        for tname, target in ctx.targets("rabbitmq"):
            policies = list(target.policies.values()) + list(target.operator_policies.values())
            for qname, queue in target.queues.items():
                if queue.type == "stream" or queue.message_ttl is not None or "x-message-ttl" in queue.arguments:
                    continue
                if any(matches(p.pattern, qname) and "message-ttl" in p.definition for p in policies):
                    continue
                yield Issue(("targets", tname, "queues", qname), f"queue {qname!r} has no message TTL")
        for tname, target in ctx.targets("azure-servicebus"):
            for kind in ("queues", "topics"):
                for ename, entity in getattr(target, kind).items():
                    if entity.default_message_ttl is None:
                        yield Issue(("targets", tname, kind, ename),
                                    f"{kind[:-1]} {ename!r} keeps messages forever (no default_message_ttl)")
        for tname, target in ctx.targets("kafka"):
            for topic_name, topic in target.topics.items():
                if _kafka_unbounded(topic.configs):
                    yield Issue(("targets", tname, "topics", topic_name, "configs", "retention.ms"),
                                f"topic {topic_name!r} never deletes data (retention.ms=-1, no retention.bytes)",
                                resource=("targets", tname, "topics", topic_name))
