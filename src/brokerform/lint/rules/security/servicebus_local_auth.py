from brokerform.lint.model import Issue, Rule


class ServiceBusLocalAuth(Rule):
    id = "BF311"
    name = "servicebus-local-auth-enabled"
    title = "Service Bus namespace with local (SAS) authentication enabled"
    severity = "info"
    rationale = """SAS keys are long-lived shared secrets that are hard to rotate and audit. With
    `disable_local_auth: true` only Microsoft Entra ID identities (managed identities, RBAC roles)
    can connect. Checked for namespaces brokerform manages."""
    fix = "Set `namespace_settings.disable_local_auth: true` and grant RBAC roles to applications."
    source = "Azure Service Bus: disable local or SAS key authentication"
    url = "https://learn.microsoft.com/en-us/azure/service-bus-messaging/disable-local-authentication"
    brokers = ("azure-servicebus",)

    def check(self, ctx):
        for tname, target in ctx.targets("azure-servicebus"):
            ns = target.namespace_settings
            if ns.manage and not ns.disable_local_auth:
                yield Issue(("targets", tname, "namespace_settings"),
                            f"namespace of {tname!r} accepts SAS keys (disable_local_auth is not true)",
                            resource=("targets", tname))
