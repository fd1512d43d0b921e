from brokerform.lint.model import Issue, Rule


class TlsVerificationDisabled(Rule):
    id = "BF302"
    name = "tls-verification-disabled"
    title = "TLS certificate verification disabled"
    severity = "error"
    rationale = """TLS without certificate verification encrypts traffic to whoever answers, including a
    man in the middle: it gives a false sense of security. Trust a private CA with `tls.ca_file`
    instead of turning verification off. Only development environments get a warning."""
    fix = "Remove `tls.verify: false`; set `tls.ca_file` (and `server_name`) for private CAs."
    source = "RabbitMQ documentation: TLS Support (peer verification)"
    url = "https://www.rabbitmq.com/docs/ssl#peer-verification"

    def check(self, ctx):
        for name, target in ctx.targets():
            if target.tls is not None and target.tls.enabled and not target.tls.verify:
                severity = ctx.by_environment(target, prod="error", dev="warning", other="error")
                yield Issue(("targets", name, "tls", "verify"),
                            f"target {name!r} does not verify the broker's certificate",
                            resource=("targets", name), severity=severity)
