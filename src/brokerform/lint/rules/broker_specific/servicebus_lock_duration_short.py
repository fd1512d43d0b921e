from brokerform.lint.model import Issue, Rule
from brokerform.lint.options import duration
from brokerform.lint.rules.broker_specific._timeouts import ack_timeout_issues
from brokerform.model.units import format_duration_ms

SERVICEBUS_DEFAULT_LOCK_MS = 60_000


class ServiceBusLockDurationShort(Rule):
    id = "BF608"
    name = "servicebus-lock-duration-short"
    title = "Service Bus lock duration shorter than the processing time"
    severity = "warning"
    rationale = """When a peek-lock expires before the consumer completes the message, Service Bus hands
    it to another consumer: work is done twice, and the delivery count climbs until the message is
    dead-lettered although nothing failed. The default lock is 60 s (maximum 5 min)."""
    fix = "Set `ack_timeout` (lockDuration) above the processing time, or renew the lock while processing."
    source = "Azure Service Bus: message transfers, locks, and settlement (peek-lock)"
    url = "https://learn.microsoft.com/en-us/azure/service-bus-messaging/message-transfers-locks-settlement"
    brokers = ("azure-servicebus",)
    options = {"min_lock_duration": duration("10s")}

    def check(self, ctx):
        yield from ack_timeout_issues(ctx, "azure-servicebus", SERVICEBUS_DEFAULT_LOCK_MS, "lock duration")
        least = ctx.options["min_lock_duration"]
        for tname, target in ctx.targets("azure-servicebus"):
            entities = [(("targets", tname, "queues", n), q) for n, q in target.queues.items()]
            entities += [(("targets", tname, "topics", t, "subscriptions", n), s)
                         for t, topic in target.topics.items() for n, s in topic.subscriptions.items()]
            for path, entity in entities:
                if entity.lock_duration is not None and entity.lock_duration < least:
                    yield Issue(path + ("lock_duration",),
                                f"lock duration {format_duration_ms(entity.lock_duration)} is below "
                                f"{format_duration_ms(least)}", resource=path)
