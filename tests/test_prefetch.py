"""Early live reads: `plan` starts each target's read from a quick scan of the manifest, and
keeps it only when the loaded target reads from exactly the same place (plan/prefetch.py)."""

from __future__ import annotations

import gc
import socket
import threading
import time
from pathlib import Path

import pytest

from brokerform.gcpause import paused_gc
from brokerform.manifest.loader import load_manifest
from brokerform.manifest.prescan import SCAN_BUDGET_EVENTS, SMALL_VALUE_NODES, scan_targets, target_hints
from brokerform.plan.engine import build_plan, plan_manifest
from brokerform.plan.model import Action, PlanOptions
from brokerform.plan.prefetch import Prefetch, start_prefetch
from brokerform.providers import get_provider
from brokerform.providers.rabbitmq.client import RabbitClient
from rabbitmq_support import RABBIT_TARGET, admin, cli, rabbit_env, vhost, write_manifest  # noqa: F401 - fixtures

TARGET_FIRST = """\
brokerform: 1
metadata: {name: shop, owner: team-platform}
targets:
  rmq:
    type: rabbitmq
    url: https://rabbitmq.internal:15671
    username: deployer
    password: ${env:HOME}
    scope: {vhost: shop}
    tls: {verify: true}
    queues:
%s
    timeout: 5s
"""


def big_queue_block(count: int) -> str:
    return "\n".join(f"      q.{i:04d}: {{type: quorum, message_ttl: 1d}}" for i in range(count))


# -- the quick scan ------------------------------------------------------------------------

def test_scan_keeps_small_target_settings_and_skips_large_collections():
    nodes_per_queue = 6  # the name, its mapping, two keys and two values (plus a mapping end event)
    over_small = SMALL_VALUE_NODES // nodes_per_queue + 1
    assert over_small * (nodes_per_queue + 1) < SCAN_BUDGET_EVENTS
    hints = scan_targets(TARGET_FIRST % big_queue_block(over_small), "m.yaml")
    assert hints == {"rmq": {
        "type": "rabbitmq", "url": "https://rabbitmq.internal:15671", "username": "deployer",
        "password": "${env:HOME}", "scope": {"vhost": "shop"}, "tls": {"verify": True}, "timeout": "5s"}}


def test_scan_keeps_small_collections_with_their_types():
    hints = scan_targets(TARGET_FIRST % big_queue_block(2), "m.yaml")
    assert hints["rmq"]["queues"] == {"q.0000": {"type": "quorum", "message_ttl": "1d"},
                                      "q.0001": {"type": "quorum", "message_ttl": "1d"}}


def test_scan_gives_up_after_its_event_budget():
    """Settings placed after more than the budget's worth of YAML are not looked for."""
    hints = scan_targets(TARGET_FIRST % big_queue_block(SCAN_BUDGET_EVENTS), "m.yaml")
    assert "timeout" not in hints["rmq"]
    assert hints["rmq"]["url"] == "https://rabbitmq.internal:15671"


def test_scan_drops_values_built_from_aliases_and_merge_keys():
    text = ("targets:\n  rmq:\n    type: rabbitmq\n    scope: &s {vhost: a}\n    tls: *s\n"
            "    users: {<<: *s}\n    username: deployer\n")
    assert scan_targets(text, "m.yaml") == {"rmq": {"type": "rabbitmq", "scope": {"vhost": "a"},
                                                    "username": "deployer"}}


@pytest.mark.parametrize("text", ["targets: [", "- a list\n", "", "targets:\n  rmq: just-a-string\n",
                                  "targets:\n\tbad: tab\n"])
def test_scan_of_broken_or_unexpected_yaml_is_no_hint_not_an_error(text):
    assert scan_targets(text, "m.yaml") == {}


def test_hints_render_templates_and_apply_the_environment_overlay(tmp_path):
    (tmp_path / "environments").mkdir()
    (tmp_path / "vars.yaml").write_text("vhost: shop-dev\n")
    (tmp_path / "targets.yaml").write_text(
        "targets:\n  rmq:\n    type: rabbitmq\n    url: https://dev:15671\n    scope: {vhost: '{{ vars.vhost }}'}\n")
    (tmp_path / "environments" / "prod.yaml").write_text(
        "vars: {vhost: shop-prod}\ntargets:\n  rmq:\n    url: https://prod:15671\n    tls: {verify: true}\n")
    assert target_hints(tmp_path, None, {}) == {
        "rmq": {"type": "rabbitmq", "url": "https://dev:15671", "scope": {"vhost": "shop-dev"}}}
    assert target_hints(tmp_path, "prod", {}) == {"rmq": {
        "type": "rabbitmq", "url": "https://prod:15671", "scope": {"vhost": "shop-prod"}, "tls": {"verify": True}}}


def test_hints_of_a_manifest_with_an_undefined_template_variable_are_empty(tmp_path):
    (tmp_path / "m.yaml").write_text("targets:\n  rmq:\n    type: rabbitmq\n    url: '{{ vars.missing }}'\n")
    assert target_hints(tmp_path / "m.yaml", None, {}) == {}
    assert len(start_prefetch(tmp_path / "m.yaml")) == 0


# -- the garbage-collector pause ---------------------------------------------------------

def test_gc_pause_is_reentrant_and_restores_the_collector_only_at_the_outermost_end():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_gc_pause_leaves_a_collector_that_was_already_off_switched_off():
    gc.disable()
    try:
        with pytest.raises(RuntimeError):
            with paused_gc():
                raise RuntimeError("boom")
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- early reads against the real RabbitMQ -------------------------------------------------

QUEUES = """
    queues:
      shop.invoices: {type: classic, message_ttl: 1h}
      shop.refunds: {type: classic}
"""


def count_definition_reads(monkeypatch) -> list[str]:
    """Which threads GET /api/definitions (the early read runs in its own thread)."""
    reads: list[str] = []
    original = RabbitClient.request

    def request(self, method, path, **kwargs):
        if method == "GET" and path.startswith("/api/definitions/"):
            reads.append(threading.current_thread().name)
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(RabbitClient, "request", request)
    return reads


@pytest.mark.rabbitmq
def test_plan_reads_the_definitions_once_in_the_early_thread_and_plans_like_a_late_read(
        tmp_path, admin, vhost, monkeypatch):
    path = write_manifest(tmp_path / "m", QUEUES)
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    reads = count_definition_reads(monkeypatch)
    session = plan_manifest(path, None, {"vhost": vhost}, PlanOptions())
    session.close()
    assert reads == ["brokerform-prefetch-rmq"]
    assert not session.plan.has_changes
    late = build_plan(load_manifest(path, None, {"vhost": vhost}), PlanOptions())
    late.close()
    assert reads == ["brokerform-prefetch-rmq", "MainThread"]
    assert [(c.address, c.action) for c in session.plan.targets[0].changes] == \
        [(c.address, c.action) for c in late.plan.targets[0].changes]


@pytest.mark.rabbitmq
def test_an_early_read_of_another_vhost_is_discarded(tmp_path, admin, vhost):
    """A hint that does not match the loaded target (here: another vhost) never feeds the plan."""
    other = vhost + "-other"
    admin.create_vhost(other)
    try:
        path = write_manifest(tmp_path / "m", QUEUES)
        cli("apply", path, "--var", f"vhost={other}", "--auto-approve", check=0)
        loaded_other = load_manifest(path, None, {"vhost": other})
        stale = get_provider("rmq", loaded_other.manifest.targets["rmq"], loaded_other.base_dir)
        prefetch = Prefetch()
        prefetch.start("rmq", stale, stale.read_key())
        session = build_plan(load_manifest(path, None, {"vhost": vhost}), PlanOptions(), prefetch=prefetch)
        session.close()
        assert {c.action for c in session.plan.targets[0].changes} == {Action.CREATE}
    finally:
        admin.delete_vhost(other)


@pytest.mark.rabbitmq
def test_a_plan_under_the_apply_lock_reads_after_taking_the_lock(tmp_path, admin, vhost, monkeypatch):
    """An early read predates the lock, so apply's plan never uses one, even when it matches."""
    path = write_manifest(tmp_path / "m", QUEUES)
    loaded = load_manifest(path, None, {"vhost": vhost})
    early = get_provider("rmq", loaded.manifest.targets["rmq"], loaded.base_dir)
    prefetch = Prefetch()
    prefetch.start("rmq", early, early.read_key())  # reads the vhost before it exists
    prefetch._early["rmq"].result.result(timeout=30)
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    locked = build_plan(loaded, PlanOptions(), lock_owner="test", lock_timeout=10, prefetch=prefetch)
    locked.close()
    assert not locked.plan.has_changes
    unlocked = build_plan(loaded, PlanOptions(), prefetch=prefetch)  # the stale entry is still there: used now
    unlocked.close()
    prefetch.close()
    assert {c.action for c in unlocked.plan.targets[0].changes} == {Action.CREATE}


@pytest.mark.rabbitmq
def test_a_manifest_error_is_reported_at_once_while_an_early_read_hangs(tmp_path, rabbit_env):
    """The early read runs in a daemon thread: a broken manifest never waits for the broker."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    try:
        port = silent.getsockname()[1]
        path = write_manifest(tmp_path / "m", "    queues:\n      q: {type: classic, max_lenght: 5}\n",
                              header=RABBIT_TARGET.replace("${env:RABBITMQ_URL}", f"http://127.0.0.1:{port}"))
        prefetch = start_prefetch(path, None, {"vhost": "never"})
        assert len(prefetch) == 1
        prefetch.close()
        started = time.monotonic()
        code, out = cli("plan", path, "--var", "vhost=never")
        assert code == 1
        assert "max_lenght" in out and "Traceback" not in out
        assert time.monotonic() - started < 5
    finally:
        silent.close()


def test_plan_manifest_without_any_hint_plans_normally(tmp_path):
    path = Path(tmp_path / "m.yaml")
    path.write_text("brokerform: 1\nchannels: {}\n")
    session = plan_manifest(path, None, None, PlanOptions())
    session.close()
    assert session.plan.targets == []
