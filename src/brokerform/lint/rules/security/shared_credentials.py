from brokerform.lint.model import Issue, Rule
from brokerform.lint.rules.security.secret_with_literal_default import secret_fields


class SharedCredentials(Rule):
    id = "BF308"
    name = "shared-credentials"
    title = "The same credential used by several targets or users"
    severity = "warning"
    rationale = """A secret shared between targets or users cannot be rotated or revoked for one of them
    alone, and the audit log cannot tell who did what. Each target and each service gets its own."""
    fix = "Give each target/user its own secret reference."
    source = "brokerform design brief: Security Checklist (Authentication setup, Access controls)"
    url = "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html"

    def check(self, ctx):
        first: dict[str, tuple] = {}
        for path, reference in secret_fields(ctx):
            if path[-2:] == ("tls", "key_file"):
                continue
            if reference in first:
                yield Issue(path, f"{reference} is also used at {'.'.join(map(str, first[reference]))}")
            else:
                first[reference] = path
