from brokerform.lint.model import Issue, Rule


class RabbitmqGuestUser(Rule):
    id = "BF305"
    name = "rabbitmq-guest-user"
    title = "RabbitMQ guest user"
    severity = "warning"
    rationale = """`guest` is the well-known default administrator (password guest). RabbitMQ only allows
    it from localhost for that reason; a topology managed with it either only works on a laptop or has
    re-enabled remote guest access. An error in production environments."""
    fix = "Create a dedicated management user, delete guest, and reference its password as a secret."
    source = "RabbitMQ documentation: Access Control (default user)"
    url = "https://www.rabbitmq.com/docs/access-control#default-state"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for name, target in ctx.targets("rabbitmq"):
            severity = ctx.by_environment(target, prod="error", dev="info", other="warning")
            if target.username == "guest":
                yield Issue(("targets", name, "username"), f"target {name!r} connects as guest",
                            resource=("targets", name), severity=severity)
            if "guest" in target.users:
                yield Issue(("targets", name, "users", "guest"), f"target {name!r} declares the guest user",
                            severity=severity)
