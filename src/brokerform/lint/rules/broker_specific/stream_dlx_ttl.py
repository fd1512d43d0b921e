from brokerform.lint.model import Issue, Rule
from brokerform.lint.rules.broker_specific._rabbit import all_policies, applies_to_queue

STREAM_IGNORED_POLICY = ("dead-letter-exchange", "dead-letter-routing-key", "message-ttl", "delivery-limit")
STREAM_IGNORED_ARGS = ("x-dead-letter-exchange", "x-dead-letter-routing-key", "x-message-ttl", "x-delivery-limit")


class StreamDlxTtl(Rule):
    id = "BF606"
    name = "stream-dlx-ttl"
    title = "Dead-lettering or message TTL on a stream"
    severity = "warning"
    rationale = """Streams are append-only logs: messages are never dead-lettered and never expire one by
    one; retention is by age (max-age) or size. DLX, TTL and delivery-limit settings on a stream are
    refused or ignored, so the intended safety net does not exist."""
    fix = "Use `max_age` / max-length-bytes for retention; handle failures in the consumer."
    source = "RabbitMQ documentation: Streams (feature comparison)"
    url = "https://www.rabbitmq.com/docs/streams#feature-comparison"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for tname, target in ctx.targets("rabbitmq"):
            streams = {n: q for n, q in target.queues.items() if q.type == "stream"}
            for qname, queue in streams.items():
                bad = sorted(set(STREAM_IGNORED_ARGS) & set(queue.arguments))
                if bad:
                    yield Issue(("targets", tname, "queues", qname, "arguments", bad[0]),
                                f"stream {qname!r} sets {', '.join(bad)}, which streams do not support",
                                resource=("targets", tname, "queues", qname))
            for kind, pname, policy in all_policies(target):
                bad = sorted(set(STREAM_IGNORED_POLICY) & set(policy.definition))
                if not bad:
                    continue
                hits = policy.apply_to == "streams" or any(applies_to_queue(policy, n, "stream") for n in streams)
                if hits:
                    yield Issue(("targets", tname, kind, pname, "definition", bad[0]),
                                f"policy {pname!r} sets {', '.join(bad)} on streams, which ignore it",
                                resource=("targets", tname, kind, pname))
