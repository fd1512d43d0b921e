from brokerform.lint.model import Issue, Rule


def _is_everyone(principal) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        values = principal.get("AWS")
        values = values if isinstance(values, list) else [values]
        return "*" in values
    return False


class PolicyPrincipalStar(Rule):
    id = "BF313"
    name = "policy-principal-star"
    title = "Queue or topic policy that allows everyone (`Principal: *`) without a condition"
    severity = "error"
    rationale = """An Allow statement for principal `*` without a Condition lets any AWS account (or
    anonymous caller) send to, read from or manage the resource. Restrict it with aws:SourceArn /
    aws:SourceAccount conditions, or name the principals."""
    fix = "Name the principal, or add a Condition such as `ArnEquals: {aws:SourceArn: <topic arn>}`."
    source = "AWS Security Hub controls SQS.3 and SNS.4 (no public access)"
    url = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-security-best-practices.html"
    brokers = ("aws",)

    def check(self, ctx):
        for tname, target in ctx.targets("aws"):
            for kind in ("queues", "topics"):
                for rname, resource in getattr(target, kind).items():
                    statements = (resource.policy or {}).get("Statement", [])
                    statements = statements if isinstance(statements, list) else [statements]
                    for index, st in enumerate(statements):
                        if not isinstance(st, dict):
                            continue
                        if st.get("Effect") == "Allow" and _is_everyone(st.get("Principal")) and not st.get("Condition"):
                            yield Issue(("targets", tname, kind, rname, "policy", "Statement", index),
                                        f"policy of {rname!r} allows every principal without a condition",
                                        resource=("targets", tname, kind, rname))
