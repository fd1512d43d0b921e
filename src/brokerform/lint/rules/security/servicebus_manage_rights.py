from brokerform.lint.model import Issue, Rule


class ServiceBusManageRights(Rule):
    id = "BF310"
    name = "servicebus-sas-manage-rights"
    title = "Service Bus SAS rule with Manage rights"
    severity = "warning"
    rationale = """A SAS key with Manage can create and delete entities and read every key of its
    scope. Applications need Send or Listen; Manage keys in application config are the keys to the
    whole namespace. Prefer Microsoft Entra ID (RBAC) over SAS altogether."""
    fix = "Give applications Send or Listen rules on their own entity; use RBAC for management."
    source = "Azure Service Bus: authentication and authorization (Shared Access Signature)"
    url = "https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-authentication-and-authorization"
    brokers = ("azure-servicebus",)

    def check(self, ctx):
        for tname, target in ctx.targets("azure-servicebus"):
            for path, rule in _rules(tname, target):
                if "Manage" in rule.rights:
                    yield Issue(path + ("rights",), f"SAS rule {path[-1]!r} has Manage rights", resource=path)


def _rules(tname, target):
    base = ("targets", tname)
    for rname, rule in target.authorization_rules.items():
        yield base + ("authorization_rules", rname), rule
    for kind in ("queues", "topics"):
        for ename, entity in getattr(target, kind).items():
            for rname, rule in entity.authorization_rules.items():
                yield base + (kind, ename, "authorization_rules", rname), rule
