"""Every lint rule: metadata, a source link, and good/bad fixtures that pin its findings.

Each `tests/lint_fixtures/<RULE>/bad.yaml` marks the lines where the rule must report
with a trailing `# <- BF201` comment; the rule must report there and nowhere else.
`good.yaml` shows the fixed form: the rule reports nothing there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from brokerform.lint.engine import ENGINE_RULES, run_lint
from brokerform.lint.options import Option
from brokerform.lint.registry import all_rules
from brokerform.manifest.loader import load_manifest

FIXTURES = Path(__file__).parent / "lint_fixtures"
MARKER = re.compile(r"#\s*<-\s*(BF\d{3}(?:\s*,\s*BF\d{3})*)")
RULE_IDS = [rule.id for rule in all_rules()]
FIXTURE_RULES = [rid for rid in RULE_IDS if rid != "BF000"]


def expected_lines(path: Path, rule_id: str) -> list[int]:
    lines = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = MARKER.search(line)
        if match and rule_id in re.split(r"\s*,\s*", match.group(1)):
            lines.append(number)
    return lines


def findings_of(path: Path, rule_id: str, environment: str | None = None) -> list:
    result = run_lint(load_manifest(path, environment), environment)
    return [f for f in result.findings if f.rule_id == rule_id]


@pytest.mark.parametrize("rule_id", FIXTURE_RULES)
def test_bad_fixture_reports_the_rule_exactly_on_the_marked_lines(rule_id):
    bad = FIXTURES / rule_id / "bad.yaml"
    wanted = expected_lines(bad, rule_id)
    assert wanted, f"{bad} marks no line with '# <- {rule_id}'"
    found = findings_of(bad, rule_id)
    assert sorted(f.line for f in found) == wanted, [f"{f.line}: {f.message}" for f in found]
    assert all(Path(f.file).name == "bad.yaml" and f.column >= 1 for f in found)


@pytest.mark.parametrize("rule_id", FIXTURE_RULES)
def test_good_fixture_does_not_report_the_rule(rule_id):
    good = FIXTURES / rule_id / "good.yaml"
    found = findings_of(good, rule_id)
    assert found == [], [f"{f.line}: {f.message}" for f in found]


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.id)
def test_every_rule_has_complete_metadata_and_a_source(rule):
    assert re.fullmatch(r"BF[0-6]\d\d", rule.id)
    assert re.fullmatch(r"[a-z0-9][a-z0-9.-]+", rule.name)
    assert rule.severity in ("error", "warning", "info")
    assert rule.title and rule.fix and len(" ".join(rule.rationale.split())) > 60
    assert rule.source, "every rule cites where its advice comes from"
    assert rule.url is None or rule.url.startswith("https://")
    assert rule.url or "design brief" in rule.source
    assert set(rule.brokers) <= {"rabbitmq", "kafka", "azure-servicebus", "aws"} and rule.brokers


@pytest.mark.parametrize("rule", [r for r in all_rules() if r.options], ids=lambda r: r.id)
def test_every_rule_option_declares_its_type_and_its_default_is_valid(rule):
    for name, declared in rule.options.items():
        assert isinstance(declared, Option), f"{rule.id} option {name!r}: declare it with brokerform.lint.options"
        assert re.fullmatch(r"[a-z][a-z_]*", name)
        declared.default_value  # noqa: B018 - raises when the default is not a value the option accepts


def test_there_are_rules_in_every_category_for_every_broker():
    rules = [r for r in all_rules() if r.id not in ENGINE_RULES]
    assert len(rules) >= 40
    categories = {r.category() for r in rules}
    assert categories == {"message-design", "reliability", "security", "scalability", "operability", "broker-specific"}
    for broker in ("rabbitmq", "kafka", "azure-servicebus", "aws"):
        specific = [r for r in rules if r.brokers == (broker,)]
        assert specific, f"no rule specific to {broker}"


def test_every_fixture_folder_belongs_to_a_rule():
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders == set(FIXTURE_RULES)
