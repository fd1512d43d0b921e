from brokerform.lint.model import Issue, Rule


class RequestWithoutTtl(Rule):
    id = "BF505"
    name = "request-without-ttl"
    title = "Request-reply requests without a message TTL"
    severity = "warning"
    rationale = """A requester gives up after its timeout; a request without a TTL is still processed
    later, doing work whose reply nobody reads, and piles up while the responder is down. Requests
    should expire with the requester's patience."""
    fix = "Set `ttl` on the request-reply channel (about the requester's timeout)."
    source = "brokerform design brief: Anti-patterns to Avoid (Missing message TTL; Synchronous request-reply)"
    url = "https://www.rabbitmq.com/docs/direct-reply-to"

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            if channel.pattern == "request-reply" and channel.ttl is None:
                yield Issue(("channels", name), f"requests on {name!r} never expire (no ttl)")
