import re

from brokerform.lint.model import Issue, Rule

_DEFAULT_RE = re.compile(r"\$\{env:[^}:]+:-([^}]*)\}")


def secret_fields(ctx):
    """(path, reference) of every secret reference in the targets."""
    for name, target in ctx.targets():
        base = ("targets", name)
        if getattr(target, "password", None):
            yield base + ("password",), target.password
        if target.tls is not None and target.tls.key_file:
            yield base + ("tls", "key_file"), target.tls.key_file
        if target.type == "kafka" and target.sasl is not None:
            yield base + ("sasl", "password"), target.sasl.password
        if target.type == "azure-servicebus" and target.credential is not None:
            yield base + ("credential", "client_secret"), target.credential.client_secret
        for user_name, user in (getattr(target, "users", None) or {}).items():
            if getattr(user, "password", None):
                yield base + ("users", user_name, "password"), user.password


class SecretWithLiteralDefault(Rule):
    id = "BF304"
    name = "secret-with-literal-default"
    title = "Secret reference with a literal default value"
    severity = "warning"
    rationale = """`${env:NAME:-value}` falls back to `value` when the variable is missing, so the secret
    is in the repository after all, and a deployment that forgot the variable silently runs with a
    well-known password. An error in production environments."""
    fix = "Drop the default (`${env:NAME}`) so a missing secret fails loudly, or use `${file:path}`."
    source = "OWASP Secrets Management Cheat Sheet"
    url = "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html"

    def check(self, ctx):
        for path, reference in secret_fields(ctx):
            match = _DEFAULT_RE.search(reference)
            if match and match.group(1):
                target = ctx.manifest.targets[path[1]]
                severity = ctx.by_environment(target, prod="error", dev="info", other="warning")
                yield Issue(path, f"{'.'.join(path[2:])} of {path[1]!r} has a literal default secret",
                            resource=path[:-1] if path[-2] != "tls" else path[:2], severity=severity)
