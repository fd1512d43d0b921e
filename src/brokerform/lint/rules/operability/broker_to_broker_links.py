from brokerform.lint.model import Issue, Rule

LINK_COMPONENTS = {"shovel", "federation-upstream", "federation-upstream-set"}


class BrokerToBrokerLinks(Rule):
    id = "BF504"
    name = "broker-to-broker-link"
    title = "Direct broker-to-broker link (shovel/federation) for review"
    severity = "info"
    rationale = """Shovels and federation couple two brokers directly: credentials of one live in the
    other, failures are silent unless the link status is monitored, and the message flow is invisible
    to the channel model. They are sometimes right (migrations, WAN), so they are flagged for review."""
    fix = "Document why the link exists, monitor its status, and suppress this finding with the reason."
    source = "brokerform design brief: Anti-patterns to Avoid (Direct broker-to-broker communication)"
    url = "https://www.rabbitmq.com/docs/shovel"
    brokers = ("rabbitmq",)

    def check(self, ctx):
        for tname, target in ctx.targets("rabbitmq"):
            for pname, param in target.parameters.items():
                if param.component in LINK_COMPONENTS:
                    yield Issue(("targets", tname, "parameters", pname),
                                f"{param.component} {pname!r} links this broker directly to another")
            for kind in ("policies", "operator_policies"):
                for pname, policy in getattr(target, kind).items():
                    if {"federation-upstream", "federation-upstream-set"} & set(policy.definition):
                        yield Issue(("targets", tname, kind, pname), f"policy {pname!r} federates with another broker")
