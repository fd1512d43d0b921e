"""Bad input gets located errors (FILE:LINE:COL: field.path: message) and exit 1, never a traceback.

Golden files live in tests/data/broken/expected/; regenerate with BROKERFORM_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from brokerform.cli import main

BROKEN = Path(__file__).parent / "data" / "broken"
CASES = sorted(p.name for p in BROKEN.glob("*.yaml"))


def run_cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("name", CASES)
def test_broken_manifest_gives_located_errors_matching_the_golden_file(name, monkeypatch):
    monkeypatch.chdir(BROKEN.parents[2])
    monkeypatch.delenv("RABBITMQ_PASSWORD", raising=False)
    result = run_cli("validate", f"tests/data/broken/{name}")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    golden = BROKEN / "expected" / (name + ".txt")
    if os.environ.get("BROKERFORM_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(result.stderr)
    assert result.stderr == golden.read_text()
    for line in result.stderr.splitlines()[:-1]:
        assert line.startswith(f"tests/data/broken/{name}:"), line


def test_alias_bomb_is_refused_in_well_under_a_second(monkeypatch):
    monkeypatch.chdir(BROKEN.parents[2])
    started = time.perf_counter()
    result = run_cli("validate", "tests/data/broken/alias-bomb.yaml")
    assert result.exit_code == 1
    assert time.perf_counter() - started < 0.5


def test_unreadable_and_missing_paths_are_reported_not_raised(tmp_path):
    missing = run_cli("validate", str(tmp_path / "nope.yaml"))
    assert (missing.exit_code, missing.stderr.splitlines()[0]) == (1, f"{tmp_path / 'nope.yaml'}: no such file or directory")
    empty_dir = run_cli("validate", str(tmp_path))
    assert empty_dir.stderr.splitlines()[0] == f"{tmp_path}: no manifest files (*.yaml, *.yml) found"
    if os.geteuid() != 0:
        locked = tmp_path / "locked.yaml"
        locked.write_text("brokerform: 1\n")
        locked.chmod(0)
        assert run_cli("validate", str(locked)).exit_code == 1


def test_a_declaration_repeated_across_files_names_both_locations(tmp_path):
    (tmp_path / "a.yaml").write_text(
        "targets:\n  rmq:\n    type: rabbitmq\n    url: http://127.0.0.1:15672\n    queues:\n      orders: {}\n"
    )
    (tmp_path / "b.yaml").write_text("targets:\n  rmq:\n    queues:\n      orders: {durable: false}\n")
    result = run_cli("validate", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{tmp_path}/b.yaml:4:7: targets.rmq.queues.orders: declared twice: "
        f"first at {tmp_path}/a.yaml:6:7, again at {tmp_path}/b.yaml:4:7"
    )


def test_a_channel_repeated_across_files_is_an_error(tmp_path):
    body = "channels:\n  orders:\n    target: rmq\n    pattern: point-to-point\n"
    (tmp_path / "one.yaml").write_text("targets:\n  rmq: {type: rabbitmq, url: 'http://x'}\n" + body)
    (tmp_path / "two.yaml").write_text(body)
    result = run_cli("validate", str(tmp_path))
    assert "channels.orders: declared twice" in result.stderr


def test_internal_errors_are_reported_without_a_traceback(monkeypatch, tmp_path):
    import brokerform.manifest.loader as loader

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(loader, "load_manifest", explode)
    result = run_cli("validate", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: internal error: RuntimeError: boom",
        "(set BROKERFORM_DEBUG=1 for a traceback and please report it)",
    ]


@pytest.mark.parametrize("command", [
    ["lint", "examples/rabbitmq-orders", "-o"],
    ["report", "examples/rabbitmq-orders", "-o"],
    ["import", "rabbitmq", "--from-definitions", "{definitions}", "--vhost", "/", "-o"],
    ["schema", "-o"],
], ids=["lint", "report", "import", "schema"])
def test_an_output_path_that_cannot_be_written_is_named_without_an_internal_error(command, monkeypatch, tmp_path):
    monkeypatch.chdir(BROKEN.parents[2])
    definitions = tmp_path / "definitions.json"
    definitions.write_text('{"queues": [{"name": "jobs", "durable": true}], "exchanges": [], "bindings": []}')
    blocker = tmp_path / "a-file"  # a file where the output's folder should be
    blocker.write_text("")
    result = run_cli(*[part.format(definitions=definitions) for part in command], str(blocker / "out.md"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == \
        f"error: {blocker / 'out.md'}: cannot create it: {blocker} is a file, not a folder"


@pytest.mark.parametrize(("args", "message"), [
    (["rabbitmq", "--url", "localhost:15672"], "Invalid value for '--url': the URL needs http:// or https:// (it has none)"),
    (["kafka", "--bootstrap-servers", "broker-1:9092,"],
     "Invalid value for '--bootstrap-servers': an empty entry in the comma-separated list; expected host:port[,host:port...]"),
    (["azure-servicebus", "--subscription-id", "s", "--resource-group", "g", "--namespace", "n", "--endpoint", "ftp://x"],
     "Invalid value for '--endpoint': the URL needs https:// or http:// (it has ftp://)"),
    (["aws", "--region", "eu-west-1", "--endpoint-url", "http://:4566"], "Invalid value for '--endpoint-url': the URL names no host"),
])
def test_import_endpoints_are_checked_like_manifest_fields_before_connecting(args, message, tmp_path):
    result = CliRunner().invoke(main, ["import", *args, "-o", str(tmp_path / "out.yaml")])
    assert (result.exit_code, result.output.splitlines()[-1]) == (1, f"Error: {message}")
    assert not (tmp_path / "out.yaml").exists()


def test_a_manifest_format_this_brokerform_does_not_know_is_named_as_such(tmp_path):
    path = tmp_path / "manifest.yaml"
    path.write_text("brokerform: 2\ntargets: {}\n")
    result = run_cli("validate", str(path))
    assert (result.exit_code, result.output.splitlines()[0]) == (
        1, f"{path}:1:13: brokerform: this brokerform reads manifest format 1, and the file declares format 2 "
           "(a newer brokerform, or a typo)")
