from brokerform.lint.model import Issue, Rule
from brokerform.lint.rules.security._tls import is_local, plaintext_reason


class TargetWithoutTls(Rule):
    id = "BF301"
    name = "target-without-tls"
    title = "Target without TLS"
    severity = "warning"
    rationale = """Without TLS, credentials and message payloads cross the network in clear text.
    Severity follows the environment: an error in production, info for development environments and
    for brokers on this machine (127.0.0.1/localhost), a warning otherwise."""
    fix = "Use amqps/https URLs, SASL_SSL or SSL for Kafka, and a `tls:` block with the CA bundle."
    source = "brokerform design brief: Security Checklist (TLS configuration)"
    url = "https://www.rabbitmq.com/docs/ssl"

    def check(self, ctx):
        for name, target in ctx.targets():
            reason = plaintext_reason(target)
            if reason is None:
                continue
            field, why = reason
            severity = ctx.by_environment(target, prod="error", dev="info", other="warning")
            if is_local(target) and not ctx.is_production(target):
                severity = "info"
            yield Issue(("targets", name, field), f"target {name!r} is not encrypted in transit: {why}",
                        resource=("targets", name), severity=severity)
