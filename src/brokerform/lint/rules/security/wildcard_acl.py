from brokerform.lint.model import Issue, Rule


class WildcardAcl(Rule):
    id = "BF309"
    name = "wildcard-acl"
    title = "ACL on every resource (`*`) or with ALL operations"
    severity = "warning"
    rationale = """An ACL that allows ALL operations, or any operation on the `*` resource (or an empty
    prefix), grants a principal every topic or group, present and future, including deletes and config
    changes. Grant the operations each service needs on its own topics (prefixed ACLs per team)."""
    fix = "Name the topics/groups (LITERAL or PREFIXED) and list only READ/WRITE/DESCRIBE as needed."
    source = "Apache Kafka documentation: Authorization and ACLs"
    url = "https://kafka.apache.org/documentation/#security_authz"

    def check(self, ctx):
        for tname, target in ctx.targets("kafka"):
            for index, acl in enumerate(target.acls):
                if acl.permission != "ALLOW":
                    continue
                everything = acl.resource_name == "*" or (acl.pattern_type == "PREFIXED" and acl.resource_name == "")
                if acl.operation == "ALL" or everything:
                    what = "ALL operations" if acl.operation == "ALL" else f"{acl.operation} on every {acl.resource_type}"
                    yield Issue(("targets", tname, "acls", index),
                                f"{acl.principal} is allowed {what}"
                                + (" on every resource" if everything and acl.operation == "ALL" else ""))
        for name, channel, _ in ctx.channels():
            for index, acl in enumerate(channel.acls):
                ops = {op.upper() for op in acl.operations}
                if acl.permission == "allow" and (acl.principal == "*" or ops & {"*", "ALL"}):
                    yield Issue(("channels", name, "acls", index),
                                f"channel {name!r} allows {'everyone' if acl.principal == '*' else acl.principal} "
                                f"{'every operation' if ops & {'*', 'ALL'} else ', '.join(sorted(ops))}",
                                resource=("channels", name))
