"""Lint output formats: SARIF 2.1.0 valid for code scanning, GitHub annotations, JSON, text."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import jsonschema
import pytest

from brokerform.lint.engine import run_lint
from brokerform.lint.output import render
from brokerform.lint.output.sarif_format import build_sarif
from brokerform.manifest.loader import load_manifest

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0.schema.json"

MANIFEST = """\
targets:
  orders-rmq:
    type: rabbitmq
    url: https://rmq.example.com:15671
    username: orders-admin
    tls:
      verify: false
channels:
  orders.events:  # brokerform:ignore BF501 -- dashboards live in Grafana, see runbook
    target: orders-rmq
    pattern: point-to-point
    requirements:
      delivery: at-least-once
"""


@pytest.fixture
def linted(tmp_path: Path, monkeypatch):
    (tmp_path / ".git").mkdir()
    path = tmp_path / "topologies" / "orders.yaml"
    path.parent.mkdir()
    path.write_text(MANIFEST, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return path, run_lint(load_manifest(path))


def test_sarif_output_validates_against_the_sarif_2_1_0_schema(linted):
    path, result = linted
    document = json.loads(render("sarif", result, manifest_path=path))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=str)
    assert errors == []
    assert document["version"] == "2.1.0"


def test_sarif_results_point_at_repo_relative_files_with_rule_metadata(linted):
    path, result = linted
    run = build_sarif(result, path)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_id = {r["id"]: r for r in rules}
    tls = next(r for r in run["results"] if r["ruleId"] == "BF302")
    assert tls["level"] == "error"
    assert tls["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "topologies/orders.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 7, "startColumn": 7},
    }
    assert rules[tls["ruleIndex"]]["id"] == "BF302"
    descriptor = by_id["BF302"]
    assert descriptor["shortDescription"]["text"] == "TLS certificate verification disabled"
    assert descriptor["defaultConfiguration"]["level"] == "error"
    assert descriptor["helpUri"].startswith("https://www.rabbitmq.com/")
    assert "Fix:" in descriptor["help"]["text"] and descriptor["fullDescription"]["text"]
    assert descriptor["properties"]["security-severity"] == "8.0"
    assert set(tls["partialFingerprints"]) == {"brokerformFinding/v1"}
    assert all(r["ruleId"] in by_id for r in run["results"])


def test_sarif_keeps_suppressed_findings_as_in_source_suppressions(linted):
    path, result = linted
    run = build_sarif(result, path)["runs"][0]
    [hidden] = [r for r in run["results"] if "suppressions" in r]
    assert hidden["ruleId"] == "BF501"
    assert hidden["suppressions"] == [
        {"kind": "inSource", "justification": "dashboards live in Grafana, see runbook"}
    ]


def test_sarif_fingerprints_survive_lines_moving(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    first = tmp_path / "a.yaml"
    first.write_text(MANIFEST, encoding="utf-8")
    before = build_sarif(run_lint(load_manifest(first)), first)["runs"][0]["results"]
    first.write_text("# a new comment line at the top\n" + MANIFEST, encoding="utf-8")
    after = build_sarif(run_lint(load_manifest(first)), first)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in before] == [r["partialFingerprints"] for r in after]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] == [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] + 1 for r in before]


def test_github_format_prints_workflow_annotations(linted):
    path, result = linted
    lines = render("github", result, manifest_path=path).splitlines()
    assert "::error file=topologies/orders.yaml,line=7,col=7,title=BF302 tls-verification-disabled::" \
           "target 'orders-rmq' does not verify the broker's certificate" in lines
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert not any("BF501" in line for line in lines)


def test_github_format_escapes_newlines_and_property_separators():
    from brokerform.lint.output.github_format import _escape_data, _escape_property

    assert _escape_data("50% done\nnext") == "50%25 done%0Anext"
    assert _escape_property("a:b,c") == "a%3Ab%2Cc"


def test_json_format_lists_findings_and_suppressed_with_a_summary(linted):
    path, result = linted
    data = json.loads(render("json", result, manifest_path=path))
    assert data["summary"]["error"] == 1 and data["summary"]["suppressed"] == 1
    tls = next(f for f in data["findings"] if f["rule"] == "BF302")
    assert tls == {
        "rule": "BF302", "name": "tls-verification-disabled", "severity": "error",
        "message": "target 'orders-rmq' does not verify the broker's certificate",
        "file": str(path), "line": 7, "column": 7, "path": "targets.orders-rmq.tls.verify",
        "resource": "targets.orders-rmq",
    }
    assert data["suppressed"][0]["suppression"] == "dashboards live in Grafana, see runbook"


def test_text_format_groups_by_file_and_shows_the_source_line(linted):
    path, result = linted
    text = render("text", result, manifest_path=path)
    lines = text.splitlines()
    assert lines[0] == "topologies/orders.yaml"
    index = lines.index(next(l for l in lines if "BF302" in l))
    assert lines[index] == ("  7:7  error    BF302  target 'orders-rmq' does not verify the broker's certificate"
                            "  [targets.orders-rmq]")
    assert lines[index + 1] == "     7 |       verify: false"
    assert lines[index + 2] == "       |       ^"
    assert lines[-1].endswith("1 suppressed") and lines[-1].startswith(f"{len(result.findings)} finding(s): 1 error(s)")


# -- file names that are not plain text --------------------------------------------------------

@pytest.fixture
def odd_names(tmp_path: Path, monkeypatch):
    """A repository with a manifest whose name is not UTF-8 and one full of URI delimiters."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    latin1 = tmp_path / os.fsdecode(b"topologies/commandes-\xe9t\xe9.yaml")
    delimiters = tmp_path / "topologies" / "my orders#1%,eu:west.yaml"
    latin1.parent.mkdir()
    for path in (latin1, delimiters):
        path.write_text(MANIFEST, encoding="utf-8")
    return latin1, delimiters


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_every_format_renders_a_non_utf8_file_name_as_valid_utf8(odd_names, fmt):
    latin1, _ = odd_names
    rendered = render(fmt, run_lint(load_manifest(latin1)), manifest_path=latin1)
    assert rendered.encode("utf-8")  # strict: no surrogate escapes left
    assert "\\udce9" not in rendered
    if fmt in ("json", "sarif"):
        json.loads(rendered)


def test_a_non_utf8_file_name_is_shown_with_backslash_escapes_and_percent_encoded_in_sarif(odd_names):
    latin1, _ = odd_names
    result = run_lint(load_manifest(latin1))
    assert render("text", result).splitlines()[0] == "topologies/commandes-\\xe9t\\xe9.yaml"
    assert {f["file"] for f in json.loads(render("json", result))["findings"]} == {
        str(latin1.parent / "commandes-\\xe9t\\xe9.yaml")}
    assert "::error file=topologies/commandes-\\xe9t\\xe9.yaml,line=7,col=7," in render("github", result,
                                                                                      manifest_path=latin1)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in build_sarif(result, latin1)["runs"][0]["results"]}
    assert uris == {"topologies/commandes-%E9t%E9.yaml"}


def test_sarif_artifact_uris_are_percent_encoded_and_still_valid_sarif(odd_names):
    _, delimiters = odd_names
    document = build_sarif(run_lint(load_manifest(delimiters)), delimiters)
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in document["runs"][0]["results"]]
    assert {(l["uri"], l["uriBaseId"]) for l in locations} == {
        ("topologies/my%20orders%231%25%2Ceu%3Awest.yaml", "%SRCROOT%")}
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(document)) == []


def test_a_file_outside_the_repository_gets_an_encoded_absolute_file_uri(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    outside = tmp_path / "shared topologies" / "orders#eu.yaml"
    outside.parent.mkdir()
    outside.write_text(MANIFEST, encoding="utf-8")
    monkeypatch.chdir(repo)
    document = build_sarif(run_lint(load_manifest(outside)), repo / "manifest.yaml")
    [location] = {json.dumps(r["locations"][0]["physicalLocation"]["artifactLocation"])
                  for r in document["runs"][0]["results"]}
    assert json.loads(location) == {"uri": outside.as_uri()}
    assert json.loads(location)["uri"].endswith("/shared%20topologies/orders%23eu.yaml")


def test_github_annotations_escape_property_delimiters_in_file_names(odd_names):
    _, delimiters = odd_names
    rendered = render("github", run_lint(load_manifest(delimiters)), manifest_path=delimiters)
    assert "::error file=topologies/my orders#1%25%2Ceu%3Awest.yaml,line=7,col=7,title=BF302 " \
           "tls-verification-disabled::target 'orders-rmq' does not verify the broker's certificate" \
           in rendered.splitlines()
