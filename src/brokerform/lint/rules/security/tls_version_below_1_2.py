from brokerform.lint.model import Issue, Rule


class TlsVersionBelow12(Rule):
    id = "BF303"
    name = "tls-version-below-1.2"
    title = "Minimum TLS version below 1.2"
    severity = "error"
    rationale = """TLS 1.0 and 1.1 are deprecated (RFC 8996) and have known weaknesses; Azure retires
    them for Service Bus. Allowing them lets a downgrade attack pick the weakest protocol."""
    fix = "Set `tls.min_version: '1.2'` (or 1.3) and `namespace_settings.minimum_tls_version: '1.2'`."
    source = "Azure Service Bus: enforce a minimum required TLS version"
    url = "https://learn.microsoft.com/en-us/azure/service-bus-messaging/transport-layer-security-enforce-minimum-version"

    def check(self, ctx):
        for name, target in ctx.targets():
            if target.tls is not None and target.tls.min_version in ("1.0", "1.1"):
                yield Issue(("targets", name, "tls", "min_version"),
                            f"target {name!r} accepts TLS {target.tls.min_version}", resource=("targets", name))
            if target.type == "azure-servicebus" and target.namespace_settings.minimum_tls_version in ("1.0", "1.1"):
                yield Issue(("targets", name, "namespace_settings", "minimum_tls_version"),
                            f"namespace of {name!r} accepts TLS {target.namespace_settings.minimum_tls_version}",
                            resource=("targets", name))
