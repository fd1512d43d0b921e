from brokerform.lint.model import Issue, Rule
from brokerform.lint.options import count


class MaxDeliveriesOutOfRange(Rule):
    id = "BF205"
    name = "max-deliveries-out-of-range"
    title = "Max deliveries of 1 (no retry) or very high"
    severity = "warning"
    rationale = """With one delivery, a single transient failure (a timeout, a restart during processing)
    dead-letters a good message. With a very high count, a poison message is retried for a long time,
    blocking ordered queues and wasting consumers before it reaches the DLQ."""
    fix = "Use a small retry budget, typically 3-10 deliveries, with backoff."
    source = "Azure Service Bus: dead-letter queues (MaxDeliveryCount, default 10)"
    url = "https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-dead-letter-queues"
    options = {"max": count(50, minimum=2)}

    def check(self, ctx):
        high = ctx.options["max"]
        for path, count in _delivery_counts(ctx):
            if count == 1:
                yield Issue(path, "max deliveries is 1: one transient failure dead-letters the message",
                            resource=_resource(path))
            elif count > high:
                yield Issue(path, f"max deliveries is {count} (above {high}): poison messages retry for long",
                            resource=_resource(path))


def _resource(path: tuple) -> tuple:
    if path[0] == "channels":
        return path[:2]
    return path[:-2] if path[-2] == "redrive" else path[:-1]


def _delivery_counts(ctx):
    for name, channel, _ in ctx.channels():
        if channel.dead_letter is not None and channel.dead_letter.max_deliveries is not None:
            yield ("channels", name, "dead_letter", "max_deliveries"), channel.dead_letter.max_deliveries
    for tname, target in ctx.targets("aws"):
        for qname, queue in target.queues.items():
            if queue.redrive is not None:
                yield ("targets", tname, "queues", qname, "redrive", "max_receive_count"), queue.redrive.max_receive_count
    for tname, target in ctx.targets("azure-servicebus"):
        for qname, queue in target.queues.items():
            if queue.max_delivery_count is not None:
                yield ("targets", tname, "queues", qname, "max_delivery_count"), queue.max_delivery_count
        for topic_name, topic in target.topics.items():
            for sname, sub in topic.subscriptions.items():
                if sub.max_delivery_count is not None:
                    yield (("targets", tname, "topics", topic_name, "subscriptions", sname, "max_delivery_count"),
                           sub.max_delivery_count)
    for tname, target in ctx.targets("rabbitmq"):
        for qname, queue in target.queues.items():
            if queue.delivery_limit:
                yield ("targets", tname, "queues", qname, "delivery_limit"), queue.delivery_limit
