"""Apply survives `kill -9`, Ctrl-C / SIGTERM and a concurrent apply, against the real RabbitMQ.

After an interrupted apply, running apply again finishes the job without duplicates and
a following plan shows no changes; a second apply waits for the broker-side lock. A signal
the process can catch lets the changes in flight finish and reports the rest as not started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rabbitmq_support import admin, rabbit_env, vhost, write_manifest  # noqa: F401 - fixtures

from brokerform.providers.rabbitmq.provider import LOCK_LEASE_MS

pytestmark = pytest.mark.rabbitmq


def queues_and_policies(count: int, ttl: str) -> str:
    lines = ["    queues:"]
    lines += [f"      work.{i:04d}: {{type: classic}}" for i in range(count)]
    lines += ["    policies:"]
    lines += [f"      limit.{i:04d}: {{pattern: '^work\\\\.{i:04d}$', definition: {{message-ttl: {ttl}}}}}" for i in range(count)]
    return "\n".join(lines) + "\n"


def brokerform(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "brokerform.cli", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "CI": "1"}, **kwargs)


def finish(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def kill_when(process: subprocess.Popen, condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if condition():
            process.send_signal(signal.SIGKILL)
            process.wait()
            return
        time.sleep(0.05)
    process.kill()
    pytest.fail("the apply finished before it could be interrupted")


def updated_policies(admin, vhost: str, ttl: int) -> int:
    policies = admin.get(f"/api/policies/{vhost.replace('/', '%2F')}") or []
    return sum(1 for p in policies if p["definition"].get("message-ttl") == ttl)


def applied_then_changed(tmp_path: Path, vhost: str, count: int) -> tuple[Path, tuple]:
    """`count` queues and policies applied, then every policy's TTL changed in the manifest:
    an apply of `count` per-object updates, slow enough to interrupt with --parallelism 1."""
    manifest = write_manifest(tmp_path, queues_and_policies(count, "60000"))
    args = ("apply", manifest, "--var", f"vhost={vhost}", "--auto-approve")
    code, output = finish(brokerform(*args))
    assert code == 0, output
    manifest.write_text(manifest.read_text().replace("message-ttl: 60000", "message-ttl: 120000"))
    return manifest, args


@pytest.mark.slow
def test_apply_killed_with_sigkill_converges_on_the_next_run(tmp_path: Path, admin, vhost):
    count = 150
    manifest, args = applied_then_changed(tmp_path, vhost, count)
    interrupted = brokerform(*args, "--parallelism", "1")
    kill_when(interrupted, lambda: updated_policies(admin, vhost, 120000) >= 10)
    done_before = updated_policies(admin, vhost, 120000)
    assert 10 <= done_before < count

    # The killed apply's broker lock expires after its lease; the re-run waits for it, then finishes.
    code, output = finish(brokerform(*args, "--lock-timeout", str(LOCK_LEASE_MS / 1000 + 60)))
    assert code == 0, output
    assert f"{count - done_before} succeeded, 0 failed, 0 skipped" in output
    assert updated_policies(admin, vhost, 120000) == count
    assert len(admin.get(f"/api/queues/{vhost}") or []) == count

    code, output = finish(brokerform("plan", manifest, "--var", f"vhost={vhost}", "--detailed-exitcode"))
    assert code == 0, output


def test_sigterm_during_apply_reports_exactly_what_was_not_started_and_plan_agrees(tmp_path: Path, admin, vhost):
    """What CI sends when a job is cancelled: the report, not the broker, has to say what is left."""
    count = 300
    manifest, args = applied_then_changed(tmp_path, vhost, count)
    process = brokerform(*args, "--parallelism", "1")
    deadline = time.monotonic() + 60
    while updated_policies(admin, vhost, 120000) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    code, output = finish(process)
    assert code == 130, output
    assert "Interrupted: finishing the changes in flight and starting no new ones" in output
    summary = next(line for line in output.splitlines() if line.startswith("rmq: "))
    succeeded, skipped = (int(summary.split(" succeeded")[0].split()[-1]), int(summary.split(" skipped")[0].split()[-1]))
    assert (summary, succeeded + skipped) == (f"rmq: {succeeded} succeeded, 0 failed, {skipped} skipped.", count)
    assert skipped > 0 and f"Apply interrupted: {skipped} change(s) listed above as skipped were not started." in output
    assert updated_policies(admin, vhost, 120000) == succeeded

    code, output = finish(brokerform("plan", manifest, "--var", f"vhost={vhost}"))
    assert f"0 to create, {skipped} to update, 0 to replace, 0 to delete." in output


def test_a_second_apply_waits_for_the_lock_and_fails_clearly(tmp_path: Path, admin, vhost):
    manifest = write_manifest(tmp_path, queues_and_policies(3, "60000"))
    args = ("apply", manifest, "--var", f"vhost={vhost}", "--auto-approve")
    assert finish(brokerform(*args))[0] == 0
    from brokerform.manifest.loader import load_manifest
    from brokerform.providers import get_provider

    target = load_manifest(manifest, variables={"vhost": vhost}).manifest.targets["rmq"]
    with get_provider("rmq", target) as provider, provider.lock("a long-running apply in CI", timeout_s=10):
        started = time.monotonic()
        code, output = finish(brokerform(*args, "--lock-timeout", "2"))
        waited = time.monotonic() - started
    assert code == 1
    assert "waiting for the apply lock" in output and "a long-running apply in CI" in output
    assert waited >= 2
