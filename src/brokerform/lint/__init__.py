"""brokerform lint: anti-pattern rules over a validated manifest.

`engine.run_lint` produces `Finding` data; `output.*` renders it. Rules live one per
file under `rules/<category>/` and are discovered automatically.
"""

from brokerform.lint.model import Finding, Issue, Rule

__all__ = ["Finding", "Issue", "Rule"]
