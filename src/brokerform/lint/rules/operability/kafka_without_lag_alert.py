from brokerform.lint.model import Issue, Rule


class KafkaWithoutLagAlert(Rule):
    id = "BF507"
    name = "kafka-without-lag-alert"
    title = "Kafka channel monitored without a consumer-lag threshold"
    severity = "info"
    rationale = """Kafka topics have no queue depth: messages stay until retention. The signal that
    consumers fall behind is consumer lag; without a lag threshold, the first symptom is data
    aging out of retention unread."""
    fix = "Add `monitoring.max_consumer_lag`."
    source = "brokerform design brief: Monitoring Checklist (Consumer lag)"
    url = "https://docs.confluent.io/platform/current/monitor/monitor-consumer-lag.html"
    brokers = ("kafka",)

    def check(self, ctx):
        for name, channel, _ in ctx.channels("kafka"):
            if channel.monitoring is not None and channel.monitoring.max_consumer_lag is None:
                yield Issue(("channels", name, "monitoring"), f"channel {name!r} has no max_consumer_lag",
                            resource=("channels", name))
