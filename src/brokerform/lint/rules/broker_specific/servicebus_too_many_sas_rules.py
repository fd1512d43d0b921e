from brokerform.lint.model import Issue, Rule

MAX_SAS_RULES = 12


class ServiceBusTooManySasRules(Rule):
    id = "BF610"
    name = "servicebus-too-many-sas-rules"
    title = "More than 12 SAS authorization rules on a namespace or entity"
    severity = "error"
    rationale = """Service Bus allows at most 12 shared access authorization rules per namespace, queue
    or topic; the 13th is refused at apply time. Many SAS rules also mean many long-lived keys to
    rotate: prefer Microsoft Entra ID roles."""
    fix = "Consolidate SAS rules, or move applications to RBAC (managed identities)."
    source = "Azure Service Bus quotas (SAS authorization rules)"
    url = "https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-quotas"
    brokers = ("azure-servicebus",)

    def check(self, ctx):
        for tname, target in ctx.targets("azure-servicebus"):
            scopes = [(("targets", tname), target.authorization_rules)]
            for kind in ("queues", "topics"):
                scopes += [(("targets", tname, kind, n), e.authorization_rules) for n, e in getattr(target, kind).items()]
            for path, rules in scopes:
                if len(rules) > MAX_SAS_RULES:
                    yield Issue(path + ("authorization_rules",),
                                f"{len(rules)} SAS rules (Service Bus allows {MAX_SAS_RULES})", resource=path)
