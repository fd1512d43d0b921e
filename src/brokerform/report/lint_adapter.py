"""Adapter to the lint engine, which lands separately: used only when importable.

ADAPTER: `brokerform.lint.engine.run_lint(loaded)` returns a `LintResult` whose
`.findings` have `rule_id`, `severity`, `message`, `file`, `line`, `column`, `path`,
`resource` (a plain list of such findings is accepted too). Adjust `_to_finding` here
if the engine's shape changes; nothing else depends on it.
"""

from __future__ import annotations

from typing import Any

from brokerform.errors import BrokerformError
from brokerform.report.model import Finding, LintSummary

MAX_SHOWN = 50


def _first(obj: Any, *names: str, default: Any = "") -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value not in (None, ""):
            return value
    return default


def _to_finding(raw: Any) -> Finding:
    severity = str(getattr(_first(raw, "severity", default="warning"), "value", _first(raw, "severity", default="warning")))
    rule = _first(raw, "rule_id", "rule", "id", "code")
    rule = getattr(rule, "id", rule)
    message = str(_first(raw, "message", "text", default=str(raw)))
    location = _first(raw, "location", "where", default="")
    file = _first(raw, "file", default="")
    if not location and file:
        line, column = _first(raw, "line", default=0), _first(raw, "column", default=0)
        location = f"{file}:{line}:{column}" if line else str(file)
    subject = str(_first(raw, "resource", "subject", "path", default=""))
    severity = severity.lower()
    if severity not in ("error", "warning", "info"):
        severity = "info" if severity in ("note", "hint") else "warning"
    return Finding(severity, "lint", subject or str(rule), f"[{rule}] {message}" if rule else message, str(location))


def lint_summary(loaded) -> LintSummary:
    try:
        from brokerform.lint.engine import run_lint  # type: ignore[import-not-found]
    except ImportError:
        return LintSummary(available=False, note="lint engine not available in this installation")
    try:
        result = run_lint(loaded)
        raw = list(getattr(result, "findings", result))
    except BrokerformError:
        raise  # the user's input is wrong (e.g. an invalid .brokerform.yaml): a located error, exit 1
    except Exception as exc:  # noqa: BLE001 - a crashing rule must not break the report
        return LintSummary(available=False, note=f"lint failed: {type(exc).__name__}: {exc}")
    findings = [_to_finding(r) for r in raw]
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        counts[f.severity] += 1
    findings.sort(key=lambda f: ({"error": 0, "warning": 1, "info": 2}[f.severity], f.location, f.message))
    note = f"showing {MAX_SHOWN} of {len(findings)}" if len(findings) > MAX_SHOWN else ""
    return LintSummary(available=True, counts=counts, findings=findings[:MAX_SHOWN], note=note)
