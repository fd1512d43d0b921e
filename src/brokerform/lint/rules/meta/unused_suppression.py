from brokerform.lint.model import Rule


class UnusedSuppression(Rule):
    """Raised by the engine from the suppression comments it reads."""

    id = "BF001"
    name = "unused-suppression"
    title = "Suppression comment that suppresses nothing"
    severity = "warning"
    rationale = """A `# brokerform:ignore` comment whose rule reports nothing on the line it covers
    (or that names an unknown rule) is stale: the problem was fixed or moved. Stale suppressions
    hide new findings that later appear on the same line."""
    fix = "Delete the comment, or move it to the line of the finding or of the resource's key."
    source = "ESLint --report-unused-disable-directives"
    url = "https://eslint.org/docs/latest/use/command-line-interface#--report-unused-disable-directives"

    def check(self, ctx):
        return ()
