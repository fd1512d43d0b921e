"""Shared fixtures. Services come from scripts/services (make test starts them).

A test marked rabbitmq/kafka/moto fails — it does not skip — when its service is not
running, so a green suite always means the real broker was exercised.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT / "tests"))


def _services_env(name: str) -> dict[str, str]:
    script = ROOT / "scripts" / "services"
    if not script.exists():
        return {}
    out = subprocess.run([str(script), "env", name], capture_output=True, text=True, timeout=60, check=False)
    env: dict[str, str] = {}
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.startswith("export ") and "=" in line:
            key, value = line[len("export "):].split("=", 1)
            parts = shlex.split(value)
            env[key] = parts[0] if parts else ""
    return env


@pytest.fixture(scope="session")
def service_env():
    """Return a function name -> dict of connection variables, exported into os.environ too."""
    cache: dict[str, dict[str, str]] = {}

    def get(name: str) -> dict[str, str]:
        if name not in cache:
            env = _services_env(name)
            for key, value in env.items():
                os.environ.setdefault(key, value)
            cache[name] = {k: os.environ.get(k, v) for k, v in env.items()}
        return cache[name]

    return get


@pytest.fixture(autouse=True)
def _isolated_lock_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("BROKERFORM_LOCK_DIR", str(tmp_path_factory.getbasetemp() / "locks"))
    if "BROKERFORM_AUDIT_LOG" not in os.environ:  # keep audit logs out of the examples' folders
        monkeypatch.setenv("BROKERFORM_AUDIT_LOG", str(tmp_path_factory.getbasetemp() / "audit.jsonl"))


@pytest.fixture(autouse=True)
def _forget_secrets_registered_by_each_test():
    """Resolved secrets are remembered for the whole process, as a CLI run needs; across tests a
    password registered by one ("federation" from the corpus) must not redact another's output."""
    from brokerform import secrets

    before = set(secrets._resolved_secrets)
    yield
    if secrets._resolved_secrets != before:
        secrets._resolved_secrets.clear()
        secrets._resolved_secrets.update(before)
        secrets._secret_pattern.cache_clear()


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS
