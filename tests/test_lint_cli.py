"""`brokerform lint` on the command line: exit codes, formats, rule listing, examples, docs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from brokerform.cli import main
from brokerform.lint.docs import rules_markdown
from brokerform.lint.registry import all_rules

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir() and any(p.glob("*.yaml")))
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-2.1.0.schema.json").read_text(encoding="utf-8"))

WARNING_ONLY = """\
targets:
  orders-rmq:
    type: rabbitmq
    url: https://rmq.example.com:15671
    username: orders-admin
channels:
  orders.events:
    target: orders-rmq
    pattern: point-to-point
    owner: team-orders
    contact: "#orders"
    ttl: 1d
    max_length: {messages: 1000}
    dead_letter: {max_deliveries: 5}
    monitoring: {max_depth: 100}
"""


def run(*args: str):
    return CliRunner().invoke(main, ["lint", *args], catch_exceptions=False)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_exit_code_follows_fail_on(repo):
    (repo / "m.yaml").write_text(WARNING_ONLY)
    assert run("m.yaml").exit_code == 0
    assert run("m.yaml", "--fail-on", "warning").exit_code == 1
    (repo / "bad.yaml").write_text(WARNING_ONLY.replace("    username: orders-admin\n",
                                                        "    username: orders-admin\n    tls: {verify: false}\n"))
    result = run("bad.yaml")
    assert result.exit_code == 1
    assert "BF302" in result.output


def test_json_lists_only_the_findings_left(repo):
    (repo / "m.yaml").write_text(WARNING_ONLY)
    result = run("m.yaml", "--format", "json")
    data = json.loads(result.output)
    assert [f["rule"] for f in data["findings"]] == ["BF101"]


def test_invalid_manifest_gives_located_errors_and_exit_1(repo):
    (repo / "m.yaml").write_text("targets:\n  x:\n    type: rabbitmq\n    urll: http://x\n")
    result = CliRunner().invoke(main, ["lint", "m.yaml"])
    assert result.exit_code == 1
    assert "m.yaml:4:5: targets.x.urll: unknown field 'urll'" in result.output


def test_list_rules_as_json_lists_every_rule(repo):
    result = run("--list-rules", "--format", "json")
    assert result.exit_code == 0
    listed = json.loads(result.output)
    assert [r["id"] for r in listed] == [r.id for r in all_rules()]
    first = next(r for r in listed if r["id"] == "BF405")
    assert first["title"] == "Kafka replication factor below 3"
    assert first["severity"] == "warning" and first["brokers"] == ["kafka"]


def test_list_rules_as_text_has_one_line_per_rule():
    result = run("--list-rules")
    assert len(result.output.splitlines()) == len(all_rules())


def test_missing_path_is_a_usage_error():
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 1 and "missing argument PATH" in result.output


def test_output_file_receives_the_report_and_stderr_the_summary(repo):
    (repo / "m.yaml").write_text(WARNING_ONLY)
    result = CliRunner().invoke(main, ["lint", "m.yaml", "--format", "sarif", "-o", "out/lint.sarif"])
    assert result.exit_code == 0
    document = json.loads((repo / "out" / "lint.sarif").read_text())
    assert document["runs"][0]["results"][0]["ruleId"] == "BF101"
    assert (result.stdout, result.stderr) == ("", "1 finding(s): 0 error(s), 1 warning(s), 0 info\n")


def test_text_report_written_with_output_still_prints_the_summary_on_stderr(repo):
    (repo / "m.yaml").write_text(WARNING_ONLY)
    result = CliRunner().invoke(main, ["lint", "m.yaml", "-o", "lint.txt"])
    assert result.exit_code == 0
    assert (result.stdout, result.stderr) == ("", "1 finding(s): 0 error(s), 1 warning(s), 0 info\n")
    assert (repo / "lint.txt").read_text().splitlines()[0] == "m.yaml"


@pytest.mark.parametrize("fmt, shown", [
    ("text", "commandes-\\xe9t\\xe9.yaml\n"),
    ("json", '"file": "commandes-\\\\xe9t\\\\xe9.yaml"'),
    ("sarif", '"uri": "commandes-%E9t%E9.yaml"'),
    ("github", "file=commandes-\\xe9t\\xe9.yaml,"),
])
def test_a_report_about_a_non_utf8_file_name_is_written_as_utf8_to_a_file(repo, fmt, shown):
    name = os.fsdecode(b"commandes-\xe9t\xe9.yaml")
    (repo / name).write_text(WARNING_ONLY)
    result = CliRunner().invoke(main, ["lint", name, "--format", fmt, "-o", "report"])
    assert (result.exit_code, result.stderr) == (0, "1 finding(s): 0 error(s), 1 warning(s), 0 info\n")
    written = (repo / "report").read_bytes().decode("utf-8")  # strict: no lone surrogates were written
    assert shown in written


@pytest.mark.parametrize("fmt", ["sarif", "github"])
def test_list_rules_refuses_a_format_that_cannot_list_rules(fmt):
    result = CliRunner().invoke(main, ["lint", "--list-rules", "--format", fmt])
    assert result.exit_code == 1
    assert f"Error: --list-rules prints text or --format json, not --format {fmt}" in result.stderr
    assert result.stdout == ""


def test_env_and_var_options_reach_the_loader(repo):
    (repo / "environments").mkdir()
    (repo / "environments" / "prod.yaml").write_text("vars: {rf: 1}\n")
    (repo / "m.yaml").write_text(
        "targets:\n  k:\n    type: kafka\n    bootstrap_servers: k:9093\n    security_protocol: SSL\n"
        "    topics:\n      t: {replication_factor: {{ rf | default(3) }}}\n")
    assert run("m.yaml").exit_code == 0
    prod = run("m.yaml", "--env", "prod", "--format", "json")
    assert prod.exit_code == 1
    assert [(f["rule"], f["severity"]) for f in json.loads(prod.output)["findings"]] == [("BF405", "error")]
    assert run("m.yaml", "--env", "prod", "--var", "rf=3").exit_code == 0


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_lints_without_errors_and_gives_valid_sarif(example, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run(str(example.relative_to(ROOT)), "--format", "sarif")
    document = json.loads(result.output)
    errors = [r for r in document["runs"][0]["results"] if r["level"] == "error" and "suppressions" not in r]
    assert errors == [], [f"{r['ruleId']}: {r['message']['text']}" for r in errors]
    assert result.exit_code == 0
    assert list(jsonschema.Draft4Validator(SARIF_SCHEMA).iter_errors(document)) == []


def test_rules_reference_is_generated_and_current():
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == rules_markdown(), "docs/rules.md is stale: run `python -m brokerform.lint.docs`"


def test_config_option_replaces_discovered_configuration(repo):
    (repo / ".brokerform.yaml").write_text("lint:\n  severity: {BF101: error}\n")
    (repo / "ci-lint.yaml").write_text("lint:\n  disable: [BF101]\n")
    (repo / "m.yaml").write_text(WARNING_ONLY)
    assert run("m.yaml").exit_code == 1
    replaced = run("m.yaml", "--config", "ci-lint.yaml", "--format", "json")
    assert replaced.exit_code == 0 and json.loads(replaced.output)["findings"] == []
