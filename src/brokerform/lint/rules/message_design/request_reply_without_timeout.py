from brokerform.lint.model import Issue, Rule
from brokerform.model.units import format_duration_ms


class RequestReplyWithoutTimeout(Rule):
    id = "BF107"
    name = "request-reply-without-timeout"
    title = "Synchronous request-reply without a timeout"
    severity = "warning"
    rationale = """Request-reply over queues couples the requester to the responder's availability. A
    requester without a timeout blocks forever when the responder is down; a timeout longer than the
    reply TTL waits for replies that have already expired."""
    fix = "Set `reply.timeout` no longer than `reply.ttl`, or make the interaction asynchronous."
    source = "brokerform design brief: Anti-patterns to Avoid (Synchronous request-reply over queues)"
    url = "https://www.enterpriseintegrationpatterns.com/patterns/messaging/RequestReply.html"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            reply = channel.reply
            if channel.pattern != "request-reply" or reply is None:
                continue
            if reply.timeout is None:
                yield Issue(("channels", name, "reply"), f"request-reply channel {name!r} has no reply.timeout",
                            resource=("channels", name))
            elif reply.timeout > reply.ttl:
                yield Issue(("channels", name, "reply", "timeout"),
                            f"reply.timeout {format_duration_ms(reply.timeout)} is longer than reply.ttl "
                            f"{format_duration_ms(reply.ttl)}: the requester waits for expired replies",
                            resource=("channels", name))
