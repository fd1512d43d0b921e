"""Run every enabled rule over a loaded manifest and return located findings.

The engine is the only place that turns rule issues into findings: it applies the
configuration (enable/disable, severity, options), locates issues in the YAML, turns a
crashing rule into a BF000 finding, and applies inline suppressions (reporting unused or
unjustified ones as BF001/BF002).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brokerform.errors import format_path
from brokerform.lint.config import EffectiveConfig, build_config
from brokerform.lint.context import LintContext
from brokerform.lint.model import Finding, Issue, Rule, at_or_above
from brokerform.lint.registry import all_rules, resolve_rule_id, rules_by_id
from brokerform.lint.suppressions import Suppression, read_suppressions

RULE_CRASHED = "BF000"
UNUSED_SUPPRESSION = "BF001"
UNJUSTIFIED_SUPPRESSION = "BF002"
ENGINE_RULES = (RULE_CRASHED, UNUSED_SUPPRESSION, UNJUSTIFIED_SUPPRESSION)


@dataclass
class LintResult:
    findings: list[Finding]
    suppressed: list[Finding]
    rules: list[type[Rule]]
    config: EffectiveConfig
    files: list[str] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def fails(self, threshold: str) -> bool:
        return any(at_or_above(f.severity, threshold) for f in self.findings)


def run_lint(
    loaded: Any,
    environment: str | None = None,
    *,
    config_files: list[Path] | None = None,
    rules: list[type[Rule]] | None = None,
) -> LintResult:
    """Lint a loaded manifest; `rules` replaces the discovered rules (tests use it)."""
    environment = environment if environment is not None else loaded.environment
    config = build_config(loaded, environment, config_files)
    candidates = list(rules) if rules is not None else list(all_rules())
    active = [r for r in candidates if r.id not in ENGINE_RULES and config.is_enabled(r)]
    base = LintContext(loaded, environment, production=config.production, development=config.development)
    findings: list[Finding] = []
    for rule_class in active:
        findings.extend(_run_rule(rule_class, base, config, loaded))
    files = [str(f) for f in loaded.files]
    extra = sorted({f.file for f in findings} - set(files))
    suppressions = read_suppressions(files + extra)
    kept, suppressed = _apply_suppressions(findings, suppressions)
    meta_rules = rules_by_id()
    kept.extend(_suppression_findings(suppressions, {r.id for r in active}, config, meta_rules))
    kept = [f for f in kept if f.rule_id not in ENGINE_RULES or _engine_rule_enabled(f.rule_id, config, meta_rules)]
    kept.sort(key=lambda f: f.sort_key)
    suppressed.sort(key=lambda f: f.sort_key)
    shown_rules = sorted({*active, *[meta_rules[i] for i in ENGINE_RULES if i in meta_rules]}, key=lambda r: r.id)
    return LintResult(kept, suppressed, shown_rules, config, files)


def _run_rule(rule_class: type[Rule], base: LintContext, config: EffectiveConfig, loaded: Any) -> list[Finding]:
    ctx = base.with_options(config.options_of(rule_class))
    configured = config.severity_of(rule_class)
    try:
        issues = list(rule_class().check(ctx))
    except Exception as exc:  # noqa: BLE001 - a broken rule must not break the linter
        where = loaded.locate(())
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return [
            Finding(
                RULE_CRASHED, "rule-crashed", configured_or(config, RULE_CRASHED, "error"),
                f"rule {rule_class.id} ({rule_class.name}) crashed: {type(exc).__name__}: {exc} "
                f"(at {Path(frame.filename).name}:{frame.lineno}); please report it",
                where.file, where.line or 1, where.column or 1, "", rule_class.id,
            )
        ]
    return [_locate(rule_class, issue, configured, loaded) for issue in issues]


def configured_or(config: EffectiveConfig, rule_id: str, default: str) -> str:
    return config.severity.get(rule_id) if config.severity.get(rule_id) not in (None, "off") else default


def _locate(rule_class: type[Rule], issue: Issue, configured: str | None, loaded: Any) -> Finding:
    location = loaded.locate(issue.path, key=issue.key)
    resource_path = issue.resource if issue.resource is not None else issue.path
    resource_loc = loaded.locate(resource_path, key=True)
    anchors = {(location.file, location.line), (resource_loc.file, resource_loc.line)}
    severity = configured or issue.severity or rule_class.severity
    return Finding(
        rule_class.id, rule_class.name, severity, issue.message,
        location.file, location.line, location.column,
        format_path(issue.path), format_path(resource_path), tuple(sorted(anchors)),
    )


def _same_file(a: str, b: str) -> bool:
    return a == b or Path(a).resolve() == Path(b).resolve()


def _apply_suppressions(findings: list[Finding], suppressions: list[Suppression]) -> tuple[list[Finding], list[Finding]]:
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for finding in findings:
        match = _matching_suppression(finding, suppressions)
        if match is None:
            kept.append(finding)
            continue
        finding.suppressed_by = match.reason or "(no reason given)"
        suppressed.append(finding)
    return kept, suppressed


def _matching_suppression(finding: Finding, suppressions: list[Suppression]) -> Suppression | None:
    for suppression in suppressions:
        for token in suppression.tokens:
            if resolve_rule_id(token) != finding.rule_id:
                continue
            if any(line == suppression.covers and _same_file(file, suppression.file) for file, line in finding.anchors):
                suppression.used.add(finding.rule_id)
                return suppression
    return None


def _suppression_findings(suppressions: list[Suppression], active: set[str], config: EffectiveConfig,
                          meta: dict[str, type[Rule]]) -> list[Finding]:
    out: list[Finding] = []
    for s in suppressions:
        where = f"line {s.covers}"
        if not s.tokens:
            out.append(_meta_finding(UNUSED_SUPPRESSION, config, meta, s,
                                     "suppression names no rule; write `# brokerform:ignore BF201 -- reason`"))
        for token in s.tokens:
            rid = resolve_rule_id(token)
            if rid is None:
                out.append(_meta_finding(UNUSED_SUPPRESSION, config, meta, s, f"suppression names unknown rule {token!r}"))
            elif rid in active and rid not in s.used:
                out.append(_meta_finding(UNUSED_SUPPRESSION, config, meta, s,
                                         f"unused suppression: {rid} reports nothing on {where}"))
        if not s.reason:
            out.append(_meta_finding(UNJUSTIFIED_SUPPRESSION, config, meta, s,
                                     "suppression without a reason; add `-- why this is acceptable`"))
    return out


def _meta_finding(rule_id: str, config: EffectiveConfig, meta: dict[str, type[Rule]], s: Suppression,
                  message: str) -> Finding:
    rule = meta[rule_id]
    severity = configured_or(config, rule_id, rule.severity)
    return Finding(rule_id, rule.name, severity, message, s.file, s.line, s.column,
                   "", f"{Path(s.file).name}:{s.line}", ((s.file, s.line),))


def _engine_rule_enabled(rule_id: str, config: EffectiveConfig, meta: dict[str, type[Rule]]) -> bool:
    return rule_id not in meta or config.is_enabled(meta[rule_id])
