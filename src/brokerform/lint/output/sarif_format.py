"""SARIF 2.1.0 for GitHub code scanning: rule metadata in tool.driver.rules, located results.

Suppressed findings are included with an in-source suppression and its justification, so
code scanning shows them as dismissed rather than losing them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from brokerform import __version__
from brokerform.lint.output.paths import artifact_uri, printable, repo_root

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
SECURITY_SEVERITY = {"error": "8.0", "warning": "5.0", "info": "2.0"}
INFORMATION_URI = "https://github.com/brokerform/brokerform"


def rule_descriptor(rule) -> dict:
    meta = rule.metadata()
    help_text = f"{meta['rationale']}\n\nFix: {meta['fix']}\n\nSource: {meta['source']}"
    help_md = f"{meta['rationale']}\n\n**Fix:** {meta['fix']}\n\n**Source:** " + (
        f"[{meta['source']}]({meta['url']})" if meta["url"] else meta["source"])
    properties = {"tags": [meta["category"], *meta["brokers"]], "precision": "high",
                  "problem.severity": "recommendation" if rule.severity == "info" else rule.severity}
    if meta["category"] == "security":
        properties["security-severity"] = SECURITY_SEVERITY[rule.severity]
    descriptor = {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.name.replace(".", "-").split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": meta["rationale"]},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": LEVELS[rule.severity], "enabled": rule.enabled_by_default},
        "properties": properties,
    }
    if meta["url"]:
        descriptor["helpUri"] = meta["url"]
    return descriptor


def _fingerprint(finding, uri: str) -> str:
    key = "\0".join((finding.rule_id, uri, finding.resource, finding.path, finding.message))
    return hashlib.sha256(printable(key).encode()).hexdigest()[:32]


def _result(finding, index: dict[str, int], root: Path) -> dict:
    uri, relative = artifact_uri(finding.file, root)
    physical: dict = {"artifactLocation": {"uri": uri}}
    if relative:
        physical["artifactLocation"]["uriBaseId"] = "%SRCROOT%"
    if finding.line:
        physical["region"] = {"startLine": finding.line, "startColumn": max(finding.column, 1)}
    location: dict = {"physicalLocation": physical}
    if finding.resource:
        location["logicalLocations"] = [{"fullyQualifiedName": printable(finding.resource), "kind": "resource"}]
    result = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "level": LEVELS[finding.severity],
        "message": {"text": printable(finding.message)},
        "locations": [location],
        "partialFingerprints": {"brokerformFinding/v1": _fingerprint(finding, uri)},
    }
    if finding.suppressed_by is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": printable(finding.suppressed_by)}]
    return result


def build_sarif(result, manifest_path: Path | None = None) -> dict:
    root = repo_root(manifest_path or Path.cwd())
    rules = list(result.rules)
    known = {r.id for r in rules}
    from brokerform.lint.registry import rules_by_id

    for finding in result.findings + result.suppressed:
        if finding.rule_id not in known:
            rules.append(rules_by_id()[finding.rule_id])
            known.add(finding.rule_id)
    rules.sort(key=lambda r: r.id)
    index = {rule.id: i for i, rule in enumerate(rules)}
    results = [_result(f, index, root) for f in sorted(result.findings + result.suppressed, key=lambda f: f.sort_key)]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "brokerform",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(r) for r in rules],
            }},
            "automationDetails": {"id": "brokerform-lint/"},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri() + "/"}},
            "invocations": [{"executionSuccessful": True}],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render(result, *, manifest_path: Path | None = None, **_: object) -> str:
    import json

    return json.dumps(build_sarif(result, manifest_path), indent=2) + "\n"
