from brokerform.lint.model import Issue, Rule

WILDCARDS = {".*", "^.*$", ".*$", "^.*", ".+", "^.+$"}


class RabbitmqWildcardPermissions(Rule):
    id = "BF306"
    name = "rabbitmq-wildcard-permissions"
    title = "RabbitMQ application user with `.*` permissions"
    severity = "warning"
    rationale = """`.*` lets an application user configure (declare/delete), write to or read from every
    queue and exchange in the vhost: one compromised or buggy service can delete others' queues or
    read their data. Grant each service the names it needs (least privilege). Users tagged
    administrator are exempt (they are operators, not applications)."""
    fix = "Use anchored regexes such as `^orders\\.events$`; `^$` grants nothing."
    source = "RabbitMQ documentation: Access Control (authorisation)"
    url = "https://www.rabbitmq.com/docs/access-control#authorisation"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for name, target in ctx.targets("rabbitmq"):
            for user, perm in target.permissions.items():
                declared = target.users.get(user)
                if declared is not None and "administrator" in declared.tags:
                    continue
                wide = [op for op in ("configure", "write", "read") if getattr(perm, op) in WILDCARDS]
                if wide:
                    yield Issue(("targets", name, "permissions", user, wide[0]),
                                f"user {user!r} may {'/'.join(wide)} every resource in the vhost",
                                resource=("targets", name, "permissions", user))
