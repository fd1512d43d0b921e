from brokerform.lint.model import Issue, Rule

THRESHOLDS = ("max_depth", "max_age", "max_consumer_lag", "min_consumers", "max_error_rate")


class NoMonitoring(Rule):
    id = "BF501"
    name = "no-monitoring"
    title = "Channel without monitoring thresholds"
    severity = "warning"
    rationale = """A backlog, a stuck consumer or a growing lag is invisible until users complain. Each
    channel should declare the queue depth, message age or consumer lag at which someone is alerted
    ("Lack of monitoring" is an anti-pattern to avoid)."""
    fix = "Add `monitoring: {max_depth: ..., max_age: ...}` (Kafka: `max_consumer_lag`)."
    source = "brokerform design brief: Anti-patterns to Avoid (Lack of monitoring); Monitoring Checklist"
    url = "https://www.rabbitmq.com/docs/monitoring"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            mon = channel.monitoring
            if mon is None or all(getattr(mon, t) is None for t in THRESHOLDS):
                where = ("channels", name, "monitoring") if mon is not None else ("channels", name)
                yield Issue(where, f"channel {name!r} declares no alert thresholds", resource=("channels", name))
