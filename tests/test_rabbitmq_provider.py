"""The RabbitMQ provider against the local RabbitMQ: plan/apply round trips, safety, drift, locking, TLS."""

from __future__ import annotations

import threading
import time

import pytest

from brokerform.manifest.loader import load_manifest
from brokerform.providers import get_provider
from rabbitmq_support import (  # noqa: F401 - fixtures
    admin,
    changes_by_id,
    cli,
    copy_example,
    plan_json,
    rabbit_env,
    seg,
    unique_vhost,
    vhost,
    write_manifest,
)

pytestmark = pytest.mark.rabbitmq

SHOP = """
    exchanges:
      shop.events: {type: topic}
    queues:
      shop.invoices:
        type: classic
        message_ttl: 1h
    bindings:
      - {source: shop.events, destination: shop.invoices, routing_key: "invoice.*"}
    policies:
      shop-limits:
        pattern: "^shop\\\\."
        definition: {max-length: 1000}
"""


def shop_manifest(tmp_path, ttl: str = "1h"):
    return write_manifest(tmp_path / "m", SHOP.replace("message_ttl: 1h", f"message_ttl: {ttl}"))


def test_orders_example_applies_on_a_fresh_vhost_and_replans_with_no_changes(tmp_path, admin, vhost):
    example = copy_example("rabbitmq-orders", tmp_path / "orders")
    cli("validate", example, "--var", f"vhost={vhost}", check=0)
    code, out = cli("apply", example, "--var", f"vhost={vhost}", "--auto-approve")
    assert code == 0, out
    assert "Apply complete." in out
    cli("plan", example, "--var", f"vhost={vhost}", "--detailed-exitcode", check=0)
    assert admin.queue(vhost, "orders.events.fulfilment")["arguments"]["x-queue-type"] == "quorum"
    assert admin.get(f"/api/policies/{seg(vhost)}/orders.events.dead-letter")["definition"] == {
        "dead-letter-exchange": "orders.events.dlx", "delivery-limit": 5}
    assert admin.get(f"/api/vhost-limits/{seg(vhost)}")[0]["value"] == {"max-queues": 200}
    assert admin.get(f"/api/permissions/{seg(vhost)}/fulfilment-svc")["read"] == "^orders\\.events\\.fulfilment$"


def test_changed_x_argument_is_a_replace_that_needs_allow_replace_and_restores_bindings(tmp_path, admin, vhost):
    cli("apply", shop_manifest(tmp_path), "--var", f"vhost={vhost}", "--auto-approve", check=0)
    changed = shop_manifest(tmp_path, ttl="2h")
    code, out = cli("plan", changed, "--var", f"vhost={vhost}", "--detailed-exitcode")
    assert code == 2
    assert f"-/+ queue {vhost}/shop.invoices  # forces replacement" in out
    assert "arguments.x-message-ttl   3600000 -> 7200000   # forces replacement" in out
    assert "binding" in out and "re-created because" in out
    code, out = cli("apply", changed, "--var", f"vhost={vhost}", "--auto-approve")
    assert code == 1 and "replace needs --allow-replace" in out
    assert admin.queue(vhost, "shop.invoices")["arguments"]["x-message-ttl"] == 3_600_000
    cli("apply", changed, "--var", f"vhost={vhost}", "--auto-approve", "--allow-replace", check=0)
    assert admin.queue(vhost, "shop.invoices")["arguments"]["x-message-ttl"] == 7_200_000
    assert [(b["source"], b["routing_key"]) for b in admin.queue_bindings(vhost, "shop.invoices")] == [
        ("shop.events", "invoice.*")]
    cli("plan", changed, "--var", f"vhost={vhost}", "--detailed-exitcode", check=0)


def test_queue_holding_messages_is_not_replaced_or_deleted_without_allow_data_loss(tmp_path, admin, vhost):
    path = shop_manifest(tmp_path)
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    assert admin.publish(vhost, "shop.invoices", exchange="shop.events", routing_key="invoice.paid")
    changed = shop_manifest(tmp_path, ttl="2h")
    plan = plan_json(changed, "--var", f"vhost={vhost}", "--allow-replace")
    change = changes_by_id(plan)["queue:shop.invoices"]
    assert (change["action"], change["destructive"], change["messages"]) == ("replace", True, 1)
    assert change["refused"] == "would lose 1 message(s); needs --allow-data-loss"
    code, out = cli("apply", changed, "--var", f"vhost={vhost}", "--auto-approve", "--allow-replace")
    assert code == 1 and "DESTROYS 1 message(s)" in out
    assert admin.queue(vhost, "shop.invoices")["arguments"]["x-message-ttl"] == 3_600_000

    without_queue = write_manifest(tmp_path / "gone", "    exchanges:\n      shop.events: {type: topic}\n")
    plan = plan_json(without_queue, "--var", f"vhost={vhost}", "--prune")
    change = changes_by_id(plan)["queue:shop.invoices"]
    assert (change["action"], change["destructive"], change["refused"]) == (
        "delete", True, "would lose 1 message(s); needs --allow-data-loss")
    cli("apply", changed, "--var", f"vhost={vhost}", "--auto-approve", "--allow-replace", "--allow-data-loss", check=0)
    assert admin.queue(vhost, "shop.invoices")["arguments"]["x-message-ttl"] == 7_200_000


def test_prune_deletes_unmanaged_objects_only_with_prune_and_only_inside_the_vhost(tmp_path, admin, vhost):
    path = shop_manifest(tmp_path)
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    other = unique_vhost("prune-other")
    try:
        admin.create_vhost(other)
        for v in (vhost, other):
            admin.put(f"/api/queues/{seg(v)}/handmade", {"durable": True})
        code, out = cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode")
        assert code == 0 and "1 unmanaged resource(s) in scope" in out and "handmade" in out
        cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
        assert admin.queue(vhost, "handmade") is not None
        code, out = cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", "--prune")
        assert code == 0, out
        assert admin.queue(vhost, "handmade") is None
        assert admin.queue(other, "handmade") is not None
        assert admin.get(f"/api/permissions/{seg(vhost)}/{seg(admin.env['RABBITMQ_USERNAME'])}") is not None
    finally:
        admin.delete_vhost(other)


def test_drift_made_by_hand_shows_in_plan_and_apply_repairs_it(tmp_path, admin, vhost):
    path = shop_manifest(tmp_path)
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    v = seg(vhost)
    admin.delete(f"/api/queues/{v}/shop.invoices")  # takes its binding with it
    admin.put(f"/api/policies/{v}/shop-limits", {"pattern": "^shop\\.", "definition": {"max-length": 5}})
    admin.put(f"/api/exchanges/{v}/shop.audit", {"type": "fanout"})
    code, out = cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode")
    assert code == 2
    assert f"+ queue {vhost}/shop.invoices" in out
    assert f"+ binding {vhost}/shop.events -> queue:shop.invoices [invoice.*]" in out
    assert "definition.max-length   5 -> 1000" in out
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode", check=0)
    # a binding removed on its own
    [binding] = admin.queue_bindings(vhost, "shop.invoices")
    admin.delete(f"/api/bindings/{v}/e/shop.events/q/shop.invoices/{seg(binding['properties_key'])}")
    code, out = cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode")
    assert code == 2 and f"+ binding {vhost}/shop.events -> queue:shop.invoices [invoice.*]" in out
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    assert len(admin.queue_bindings(vhost, "shop.invoices")) == 1
    assert admin.get(f"/api/policies/{v}/shop-limits")["definition"] == {"max-length": 1000}


def test_second_apply_waits_for_the_broker_lock_then_fails_with_the_holder_named(tmp_path, admin, vhost):
    path = shop_manifest(tmp_path)
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    loaded = load_manifest(path, variables={"vhost": vhost})
    holder = get_provider("rmq", loaded.manifest.targets["rmq"], loaded.base_dir)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.lock("alice@ci pid 1", 5):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        changed = shop_manifest(tmp_path, ttl="2h")
        code, out = cli("apply", changed, "--var", f"vhost={vhost}", "--auto-approve", "--lock-timeout", "2",
                        "--allow-replace")
        assert time.monotonic() - started >= 2
        assert code == 1
        assert f"timed out after 2s waiting for the apply lock on vhost '{vhost}' (held by alice@ci pid 1" in out
    finally:
        release.set()
        thread.join()
        holder.close()
    assert admin.queue(vhost, "brokerform.lock") is None  # released
    cli("apply", changed, "--var", f"vhost={vhost}", "--auto-approve", "--allow-replace", check=0)


@pytest.mark.parametrize("label", ["slash", "space-unicode"])
def test_vhost_and_object_names_with_slash_spaces_and_non_ascii_round_trip(tmp_path, admin, label):
    name = {"slash": "/bf-test/slash/", "space-unicode": "bf test ünïcødé ✓"}[label] + unique_vhost("x")[-8:]
    body = """
    vhost: {description: "Zürich orders"}
    exchanges:
      "événements/eu": {type: topic}
    queues:
      "file d'attente/é 1": {type: classic}
    bindings:
      - {source: "événements/eu", destination: "file d'attente/é 1", routing_key: "a/b c"}
"""
    path = write_manifest(tmp_path / "m", body)
    try:
        cli("apply", path, "--var", f"vhost={name}", "--auto-approve", check=0)
        cli("plan", path, "--var", f"vhost={name}", "--detailed-exitcode", check=0)
        assert admin.queue(name, "file d'attente/é 1") is not None
        assert admin.get(f"/api/vhosts/{seg(name)}")["description"] == "Zürich orders"
    finally:
        admin.delete_vhost(name)


TLS_TARGET = """\
brokerform: 1
targets:
  rmq:
    type: rabbitmq
    url: ${env:RABBITMQ_MANAGEMENT_TLS_URL}
    username: ${env:RABBITMQ_USERNAME}
    password: ${env:RABBITMQ_PASSWORD}
    tls:
      ca_file: "{{ vars.ca }}"
    scope:
      vhost: "{{ vars.vhost }}"
"""


def test_https_management_listener_works_with_the_generated_ca_and_fails_clearly_with_another(
        tmp_path, admin, vhost, rabbit_env):
    path = write_manifest(tmp_path / "m", "    queues: {tls-q: {}}\n", header=TLS_TARGET)
    ca = rabbit_env["RABBITMQ_CA_FILE"]
    cli("apply", path, "--var", f"vhost={vhost}", "--var", f"ca={ca}", "--auto-approve", check=0)
    cli("plan", path, "--var", f"vhost={vhost}", "--var", f"ca={ca}", "--detailed-exitcode", check=0)
    import certifi

    code, out = cli("plan", path, "--var", f"vhost={vhost}", "--var", f"ca={certifi.where()}")
    assert code == 1
    assert "TLS handshake with https://127.0.0.1:" in out and "certificate verify failed" in out
    assert "tls.ca_file" in out
