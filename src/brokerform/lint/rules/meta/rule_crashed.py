from brokerform.lint.model import Rule


class RuleCrashed(Rule):
    """Raised by the engine, never by `check`."""

    id = "BF000"
    name = "rule-crashed"
    title = "A lint rule crashed"
    severity = "error"
    rationale = """A rule raised an exception instead of returning findings. The linter reports it
    as a finding and goes on with the other rules, so one broken rule never hides the rest."""
    fix = "Report the message (it names the rule and the line of code) to the brokerform maintainers."
    source = "cfn-lint rule E0002 (rule processing error)"
    url = "https://github.com/aws-cloudformation/cfn-lint/blob/main/docs/rules.md"

    def check(self, ctx):
        return ()
