from brokerform.lint.model import Issue, Rule

ADMIN_TAGS = {"administrator", "policymaker"}


class AdminApplicationUser(Rule):
    id = "BF307"
    name = "admin-application-user"
    title = "Application user with administrator rights"
    severity = "warning"
    rationale = """An application user with the administrator or policymaker tag can change policies,
    users and vhosts through the management API. Applications need only their vhost permissions; keep
    admin rights for operators."""
    fix = "Remove the administrator/policymaker tag from application users."
    source = "RabbitMQ documentation: Management plugin (permissions and user tags)"
    url = "https://www.rabbitmq.com/docs/management#permissions"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for name, target in ctx.targets("rabbitmq"):
            for user, spec in target.users.items():
                tags = ADMIN_TAGS & set(spec.tags)
                if tags and user in target.permissions:
                    yield Issue(("targets", name, "users", user, "tags"),
                                f"application user {user!r} has the {'/'.join(sorted(tags))} tag",
                                resource=("targets", name, "users", user))
