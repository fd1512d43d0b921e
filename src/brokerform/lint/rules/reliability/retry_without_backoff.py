from brokerform.lint.model import Issue, Rule
from brokerform.lint.options import count


class RetryWithoutBackoff(Rule):
    id = "BF210"
    name = "retry-without-backoff"
    title = "Retries with a fixed delay"
    severity = "info"
    rationale = """Immediate or fixed-delay retries hammer a struggling dependency at the worst moment and
    retry storms synchronise across consumers. Exponential backoff (with a cap) gives the dependency
    time to recover."""
    fix = "Use `retry: {backoff: exponential, initial_delay: 1s, max_delay: 5m}`."
    source = "brokerform design brief: Error Handling (Exponential Backoff, Max Retries)"
    url = "https://docs.aws.amazon.com/prescriptive-guidance/latest/cloud-design-patterns/retry-backoff.html"
    options = {"max_fixed_attempts": count(2, minimum=0)}

    def check(self, ctx):
        for name, channel, _ in ctx.channels():
            retry = channel.retry
            if retry is not None and retry.backoff == "fixed" and retry.attempts > ctx.options["max_fixed_attempts"]:
                yield Issue(("channels", name, "retry", "backoff"),
                            f"channel {name!r} retries {retry.attempts} times with a fixed delay",
                            resource=("channels", name))
