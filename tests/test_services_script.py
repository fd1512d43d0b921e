"""Smoke tests for scripts/services (the entry point to the local brokers).

These do not start anything: `env` is pure and `status` only probes 127.0.0.1.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "services"

EXPECTED = {
    "rabbitmq": {
        "RABBITMQ_URL",
        "RABBITMQ_AMQP_URL",
        "RABBITMQ_USERNAME",
        "RABBITMQ_PASSWORD",
        "RABBITMQ_MANAGEMENT_TLS_URL",
        "RABBITMQ_CA_FILE",
    },
    "kafka": {
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_SECURITY_PROTOCOL",
        "KAFKA_SASL_MECHANISM",
        "KAFKA_SASL_USERNAME",
        "KAFKA_SASL_PASSWORD",
        "KAFKA_CA_FILE",
        "KAFKA_SSL_BOOTSTRAP_SERVERS",
    },
    "moto": {"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
}
EXPORT_RE = re.compile(r"^export ([A-Z_][A-Z0-9_]*)=(\S+)$")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BROKERFORM_")}
    full_env.update(env or {})
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )


def parse_env(stdout: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in stdout.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = EXPORT_RE.match(line)
        assert m, f"not an export line: {line!r}"
        values[m.group(1)] = m.group(2)
    return values


def test_env_prints_all_documented_variables() -> None:
    proc = run("env")
    assert proc.returncode == 0, proc.stderr
    values = parse_env(proc.stdout)
    for names in EXPECTED.values():
        assert names <= values.keys(), names - values.keys()
    assert values["RABBITMQ_URL"] == "http://127.0.0.1:15672"
    assert values["RABBITMQ_MANAGEMENT_TLS_URL"] == "https://127.0.0.1:15671"
    assert values["RABBITMQ_USERNAME"] == "brokerform"
    assert values["RABBITMQ_AMQP_URL"].startswith("amqp://brokerform:")
    assert values["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
    assert values["KAFKA_SSL_BOOTSTRAP_SERVERS"] == "127.0.0.1:19093"
    assert values["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert values["KAFKA_SASL_MECHANISM"] == "PLAIN"
    assert values["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert values["AWS_REGION"] == "us-east-1"
    for name in ("RABBITMQ_CA_FILE", "KAFKA_CA_FILE"):
        assert Path(values[name]).is_relative_to(REPO / ".services")
        assert values[name].endswith("ca.pem")


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_env_for_one_service_prints_only_its_variables(service: str) -> None:
    proc = run("env", service)
    assert proc.returncode == 0, proc.stderr
    values = parse_env(proc.stdout)
    assert EXPECTED[service] <= values.keys()
    others = set().union(*(names for name, names in EXPECTED.items() if name != service))
    assert not (others & values.keys())


def test_env_honours_port_overrides() -> None:
    proc = run("env", "kafka", "moto", env={"BROKERFORM_KAFKA_PORT": "29092", "BROKERFORM_MOTO_PORT": "25000"})
    assert proc.returncode == 0, proc.stderr
    values = parse_env(proc.stdout)
    assert values["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:29092"
    assert values["AWS_ENDPOINT_URL"] == "http://127.0.0.1:25000"


def test_status_reports_each_service() -> None:
    proc = run("status")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["rabbitmq", "kafka", "moto"]
    for line in lines:
        assert re.match(r"^(rabbitmq|kafka|moto): (up|down)\b", line), line


def test_unknown_service_or_command_fails_clearly() -> None:
    proc = run("status", "zookeeper")
    assert proc.returncode != 0
    assert "unknown service" in proc.stderr
    proc = run("restart")
    assert proc.returncode != 0
    assert "unknown command" in proc.stderr
