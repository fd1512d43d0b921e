"""Every example validates in every environment, carries the schema modeline, and the schema is current."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from brokerform.cli import main
from brokerform.manifest.loader import available_environments, discover_files

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())
REQUIRED = {"rabbitmq-orders", "kafka-clickstream", "servicebus-payments", "aws-notifications", "multi-broker-shop"}


def test_all_required_examples_exist():
    assert REQUIRED <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_validates_in_every_environment(example):
    for environment in [None, *available_environments(example)]:
        args = ["validate", str(example)] + (["--env", environment] if environment else [])
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_files_carry_the_schema_modeline(example):
    for file in discover_files(example):
        first = file.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../../schemas/manifest.schema.json", file


def test_committed_json_schema_matches_the_models(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["schema", "--check"])
    assert result.exit_code == 0, result.output


def test_schema_check_fails_when_the_schema_is_stale(tmp_path):
    stale = tmp_path / "manifest.schema.json"
    stale.write_text("{}\n")
    result = CliRunner().invoke(main, ["schema", "--check", "-o", str(stale)])
    assert result.exit_code == 1
    assert "is out of date" in result.stderr


def test_help_does_not_import_broker_sdks():
    import subprocess
    import sys

    code = ("import sys; from click.testing import CliRunner; from brokerform.cli import main; "
            "CliRunner().invoke(main, ['--help']); "
            "heavy=[m for m in ('confluent_kafka','boto3','azure','pulumi','httpx') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
