from brokerform.lint.model import Rule


class SuppressionWithoutReason(Rule):
    """Raised by the engine from the suppression comments it reads."""

    id = "BF002"
    name = "suppression-without-reason"
    title = "Suppression comment without a reason"
    severity = "error"
    rationale = """Every accepted risk needs a justification reviewers can read in the pull request.
    A suppression must say why, after `--`: `# brokerform:ignore BF201 -- replayed from the source`."""
    fix = "Add ` -- reason` after the rule ids."
    source = "brokerform design brief: Implementation Guidance (Best Practices)"
    url = "https://docs.github.com/en/code-security/code-scanning/managing-code-scanning-alerts/resolving-code-scanning-alerts"

    def check(self, ctx):
        return ()
