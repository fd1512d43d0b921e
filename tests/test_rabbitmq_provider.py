"""The RabbitMQ provider against the local RabbitMQ: plan/apply round trips, safety, drift, locking, TLS."""

from __future__ import annotations

import json
import threading
import time
from contextlib import closing as _closing

import httpx
import pytest

from brokerform.manifest.loader import load_manifest
from brokerform.providers import get_provider
from rabbitmq_support import (  # noqa: F401 - fixtures
    RABBIT_TARGET,
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
    try:
        code, out = cli("apply", example, "--var", f"vhost={vhost}", "--auto-approve")
        assert code == 0, out
        assert "Apply complete." in out
        cli("plan", example, "--var", f"vhost={vhost}", "--detailed-exitcode", check=0)
        assert_orders_topology(admin, vhost)
    finally:
        for user in ("checkout-svc", "fulfilment-svc"):  # users are cluster-wide
            admin.delete(f"/api/users/{user}")


def assert_orders_topology(admin, vhost: str) -> None:
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


def test_a_replaced_queue_keeps_a_binding_made_by_hand_that_the_manifest_does_not_declare(tmp_path, admin, vhost):
    """Before: the plan listed the hand-made binding as "kept", and the replace destroyed it."""
    cli("apply", shop_manifest(tmp_path), "--var", f"vhost={vhost}", "--auto-approve", check=0)
    admin.post(f"/api/bindings/{seg(vhost)}/e/shop.events/q/shop.invoices",
               {"routing_key": "refund.*", "arguments": {}})
    changed = shop_manifest(tmp_path, ttl="2h")
    code, out = cli("plan", changed, "--var", f"vhost={vhost}", "--detailed-exitcode")
    assert code == 2
    assert (f"-/+ binding {vhost}/shop.events -> queue:shop.invoices [refund.*]  # unmanaged: re-created as it "
            f"is live because rmq.queue[{vhost}/shop.invoices] is replaced") in out
    assert "kept; use --prune" not in out
    cli("apply", changed, "--var", f"vhost={vhost}", "--auto-approve", "--allow-replace", check=0)
    assert sorted(b["routing_key"] for b in admin.queue_bindings(vhost, "shop.invoices")) == ["invoice.*", "refund.*"]
    code, out = cli("plan", changed, "--var", f"vhost={vhost}", "--detailed-exitcode")
    assert code == 0
    assert f"binding[{vhost}/shop.events -> queue:shop.invoices [refund.*]]" in out  # unmanaged, listed as kept


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


NO_AMQP_URL_TARGET = RABBIT_TARGET.replace("    amqp_url: ${env:RABBITMQ_AMQP_URL}\n", "")


def test_without_amqp_url_a_message_published_just_before_the_plan_is_counted_over_amqp_at_the_management_host(
        tmp_path, admin, vhost):
    assert "amqp_url" not in NO_AMQP_URL_TARGET
    path = write_manifest(tmp_path / "m", SHOP, header=NO_AMQP_URL_TARGET)
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    admin.wait_for_messages(vhost, "shop.invoices", 0)
    assert admin.publish(vhost, "shop.invoices", exchange="shop.events", routing_key="invoice.paid")
    changed = write_manifest(tmp_path / "changed", SHOP.replace("1h", "2h"), header=NO_AMQP_URL_TARGET)
    change = changes_by_id(plan_json(changed, "--var", f"vhost={vhost}", "--allow-replace"))["queue:shop.invoices"]
    assert (change["action"], change["messages"], change["refused"]) == (
        "replace", 1, "would lose 1 message(s); needs --allow-data-loss")


def test_without_any_amqp_connection_a_management_count_of_zero_is_unknown_and_needs_allow_data_loss(
        tmp_path, admin, vhost, rabbit_env):
    """The https listener's host has no AMQPS listener on 5671: only the (lagging) management count is left."""
    ca = rabbit_env["RABBITMQ_CA_FILE"]
    path = write_manifest(tmp_path / "m", SHOP, header=TLS_TARGET)
    cli("apply", path, "--var", f"vhost={vhost}", "--var", f"ca={ca}", "--auto-approve", check=0)
    admin.wait_for_messages(vhost, "shop.invoices", 0)
    changed = write_manifest(tmp_path / "changed", SHOP.replace("1h", "2h"), header=TLS_TARGET)
    plan = plan_json(changed, "--var", f"vhost={vhost}", "--var", f"ca={ca}", "--allow-replace")
    change = changes_by_id(plan)["queue:shop.invoices"]
    assert (change["action"], change["destructive"], change["messages"], change["refused"]) == (
        "replace", True, None, "would lose data; needs --allow-data-loss")
    assert change["note"] == ("message count unknown: no AMQP connection for an exact count and the management "
                              "API's count lags; set amqp_url for an exact count")
    code, out = cli("apply", changed, "--var", f"vhost={vhost}", "--var", f"ca={ca}", "--auto-approve",
                    "--allow-replace")
    assert code == 1 and "set amqp_url for an exact count" in out
    assert admin.queue(vhost, "shop.invoices")["arguments"]["x-message-ttl"] == 3_600_000


def test_a_stream_whose_management_count_is_zero_is_never_deleted_without_allow_data_loss(tmp_path, admin, vhost):
    """A passive declare reports 0 for every stream, so AMQP cannot confirm that a stream is empty
    and the management count may still be 0 just after a publish."""
    path = write_manifest(tmp_path / "m", "    queues:\n      audit.log: {type: stream, max_age: 7D}\n")
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    admin.wait_for_messages(vhost, "audit.log", 0)
    without = write_manifest(tmp_path / "gone", "    exchanges:\n      audit: {type: topic}\n")
    change = changes_by_id(plan_json(without, "--var", f"vhost={vhost}", "--prune"))["queue:audit.log"]
    assert (change["action"], change["destructive"], change["messages"], change["refused"], change["note"]) == (
        "delete", True, None, "would lose data; needs --allow-data-loss",
        "message count unknown: AMQP gives no count for a stream and the management API's count lags")
    assert admin.publish(vhost, "audit.log")
    code, out = cli("apply", without, "--var", f"vhost={vhost}", "--auto-approve", "--prune")
    assert code == 1 and "needs --allow-data-loss" in out
    assert admin.queue(vhost, "audit.log") is not None


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


def test_password_changed_by_hand_is_drift_shown_without_the_secret_and_apply_resets_it(
        tmp_path, admin, vhost, monkeypatch):
    user = f"{vhost}-svc"
    monkeypatch.setenv("BF_TEST_SVC_PASSWORD", "declared-pass-1")
    path = write_manifest(tmp_path / "m", f"""
    users:
      {user}: {{password: "${{env:BF_TEST_SVC_PASSWORD}}", tags: [monitoring]}}
    permissions:
      {user}: {{configure: "^$", write: "^$", read: ".*"}}
""")
    try:
        cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
        cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode", check=0)
        admin.put(f"/api/users/{seg(user)}", {"password": "changed-by-hand", "tags": "monitoring"})
        code, out = cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode")
        assert code == 2
        assert 'password   "(a different password)" -> "${env:BF_TEST_SVC_PASSWORD}"' in out
        assert "declared-pass-1" not in out and "changed-by-hand" not in out
        cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
        cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode", check=0)
    finally:
        admin.delete(f"/api/users/{seg(user)}")


def test_changing_only_the_tags_of_a_user_keeps_the_password_it_already_has(tmp_path, admin, vhost, rabbit_env):
    user = f"{vhost}-ops"
    admin.put(f"/api/users/{seg(user)}", {"password": "set-by-hand-1", "tags": "monitoring"})
    path = write_manifest(tmp_path / "m", f"""
    users:
      {user}: {{tags: [monitoring, management]}}
""")
    try:
        code, out = cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode")
        assert code == 2 and "tags" in out and "password" not in out
        cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
        assert admin.get(f"/api/users/{seg(user)}")["tags"] in ("management,monitoring", ["management", "monitoring"])
        whoami = httpx.get(rabbit_env["RABBITMQ_URL"] + "/api/whoami", auth=(user, "set-by-hand-1"), timeout=10)
        assert whoami.status_code == 200, whoami.text
        cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode", check=0)
    finally:
        admin.delete(f"/api/users/{seg(user)}")


def test_a_new_user_declared_without_a_password_is_created_without_one(tmp_path, admin, vhost):
    user = f"{vhost}-nopw"
    path = write_manifest(tmp_path / "m", f"""
    users:
      {user}: {{tags: [monitoring]}}
""")
    try:
        cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
        assert admin.get(f"/api/users/{seg(user)}")["password_hash"] == ""
    finally:
        admin.delete(f"/api/users/{seg(user)}")


def test_bulk_create_reports_a_queue_the_definitions_import_silently_kept(tmp_path, admin, vhost):
    from brokerform.apply.executor import Executor
    from brokerform.plan.engine import build_plan
    from brokerform.plan.model import PlanOptions

    queues = "".join(f"      bulk.{i:02d}: {{type: classic, message_ttl: 1h}}\n" for i in range(25))
    path = write_manifest(tmp_path / "m", "    queues:\n" + queues)
    session = build_plan(load_manifest(path, variables={"vhost": vhost}), PlanOptions())
    try:
        admin.create_vhost(vhost)  # someone else creates a conflicting queue after the plan was made
        admin.put(f"/api/queues/{seg(vhost)}/bulk.07", {"durable": True, "arguments": {"x-message-ttl": 5}})
        result = Executor(session.providers["rmq"]).run(session.plan.targets[0])
    finally:
        session.close()
    failed = {r.address.name: r.error for r in result.results if r.status == "failed"}
    assert list(failed) == ["bulk.07"]
    assert "a conflicting object already exists and the definitions import kept it" in failed["bulk.07"]
    assert "arguments.x-message-ttl: 5 (wanted 3600000)" in failed["bulk.07"]
    assert admin.queue(vhost, "bulk.24")["arguments"]["x-message-ttl"] == 3_600_000


def test_name_prefix_limits_what_is_read_planned_and_pruned(tmp_path, admin, vhost):
    header = RABBIT_TARGET.replace(
        '      vhost: "{{ vars.vhost }}"\n', '      vhost: "{{ vars.vhost }}"\n      name_prefix: "team-a."\n')
    path = write_manifest(tmp_path / "m", "    queues: {team-a.jobs: {}}\n", header=header)
    admin.create_vhost(vhost)
    admin.put(f"/api/queues/{seg(vhost)}/team-b.jobs", {"durable": True})
    admin.put(f"/api/queues/{seg(vhost)}/team-a.stray", {"durable": True})
    code, out = cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", "--prune")
    assert code == 0, out
    assert admin.queue(vhost, "team-a.stray") is None
    assert admin.queue(vhost, "team-b.jobs") is not None and admin.queue(vhost, "team-a.jobs") is not None


def test_unreachable_broker_is_a_transient_error_and_a_refusal_is_permanent_with_the_reason(rabbit_env):
    from brokerform.errors import ProviderError
    from brokerform.providers.rabbitmq.client import RabbitClient

    with _closing(RabbitClient("http://127.0.0.1:9", "u", "p", timeout_s=2)) as client:
        with pytest.raises(ProviderError) as info:
            client.get("/api/overview")
        assert info.value.transient and "cannot connect to RabbitMQ at http://127.0.0.1:9" in str(info.value)
    with _closing(RabbitClient(rabbit_env["RABBITMQ_URL"], rabbit_env["RABBITMQ_USERNAME"],
                               rabbit_env["RABBITMQ_PASSWORD"])) as client:
        with pytest.raises(ProviderError) as info:
            client.put("/api/queues/%2F/bf-bad-arg", {"arguments": {"x-max-length": "not-a-number"}})
        assert not info.value.transient
        assert "HTTP 400" in str(info.value) and "x-max-length" in str(info.value)


@pytest.mark.parametrize(("tags", "message"), [
    ("", "RabbitMQ refused GET /api/definitions/{v} (401: the user has no management tag): give it the "
         "administrator tag (brokerform reads and writes definitions)"),
    ("monitoring", "RabbitMQ refused GET /api/definitions/{v} (401: the user is not an administrator): "
                   "definitions export and import need the administrator tag"),
    (None, "RabbitMQ refused GET /api/definitions/{v} (401: Login failed): check username/password"),
])
def test_a_user_without_the_tags_brokerform_needs_is_told_which_tag_not_to_check_its_password(
        tmp_path, admin, vhost, monkeypatch, tags, message):
    """RabbitMQ answers 401 for a wrong password and for missing user tags alike; the fixes differ."""
    user = f"bf-tags-{vhost[-8:]}"
    admin.put(f"/api/vhosts/{seg(vhost)}", {})
    admin.put(f"/api/users/{user}", {"password": "right-password", "tags": tags or ""})
    admin.put(f"/api/permissions/{seg(vhost)}/{user}", {"configure": ".*", "write": ".*", "read": ".*"})
    try:
        monkeypatch.setenv("RABBITMQ_USERNAME", user)
        monkeypatch.setenv("RABBITMQ_PASSWORD", "right-password" if tags is not None else "wrong-password")
        manifest = write_manifest(tmp_path, "    queues:\n      orders: {}\n")
        code, output = cli("plan", str(manifest), "--var", f"vhost={vhost}")
        assert code == 1
        assert f"  error: {message.format(v=seg(vhost))}" in output.splitlines()
    finally:
        admin.delete(f"/api/users/{user}")


def test_an_administrator_without_permissions_in_the_vhost_is_told_to_grant_them_not_to_check_its_password(
        tmp_path, admin, vhost, monkeypatch):
    user = f"bf-noperm-{vhost[-8:]}"
    admin.put(f"/api/vhosts/{seg(vhost)}", {})
    admin.put(f"/api/users/{user}", {"password": "right-password", "tags": "administrator"})
    try:
        monkeypatch.setenv("RABBITMQ_USERNAME", user)
        monkeypatch.setenv("RABBITMQ_PASSWORD", "right-password")
        manifest = write_manifest(tmp_path, "    queues:\n      orders: {}\n")
        code, output = cli("apply", str(manifest), "--var", f"vhost={vhost}", "--auto-approve")
        assert code == 1
        assert ("(401: access refused): the user has no permissions in this vhost (a wrong password is "
                "'Login failed'); grant it configure, write and read permissions there") in output
        assert "check username/password" not in output
    finally:
        admin.delete(f"/api/users/{user}")


def test_prune_never_deletes_the_vhost_permissions_of_the_user_brokerform_connects_as(tmp_path, admin, vhost):
    me = admin.env["RABBITMQ_USERNAME"]
    path = write_manifest(tmp_path / "m", f"""
    queues:
      orders: {{}}
    topic_permissions:
      {me}:
        - {{exchange: amq.topic, write: ".*", read: ".*"}}
""")
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    change = changes_by_id(plan_json(path, "--var", f"vhost={vhost}", "--prune"))[f"permission:{me}"]
    assert change["action"] == "blocked"
    assert change["blocked_reason"] == (
        f"deleting the permissions of {me!r}, the user brokerform connects as, would lock it out of vhost "
        f"{vhost!r}; declare them under permissions: to keep them")
    code, out = cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", "--prune")
    assert code == 1 and "Nothing was applied" in out
    assert admin.get(f"/api/permissions/{seg(vhost)}/{seg(me)}")["configure"] == ".*"


def test_operator_policies_and_exchange_to_exchange_bindings_apply_replan_clean_and_repair_drift(
        tmp_path, admin, vhost):
    """Two bindings between the same exchanges that differ only in header arguments are two
    resources; an operator policy updates in place."""
    path = write_manifest(tmp_path, """\
    exchanges:
      shop.all: {type: headers}
      shop.eu: {type: fanout}
    bindings:
      - {source: shop.all, destination: shop.eu, destination_type: exchange, arguments: {x-match: all, region: eu}}
      - {source: shop.all, destination: shop.eu, destination_type: exchange, arguments: {x-match: all, region: uk}}
    operator_policies:
      cap-everything: {pattern: ".*", apply_to: queues, definition: {max-length: 100000}}
""")
    args = ("--var", f"vhost={vhost}")
    cli("apply", path, *args, "--auto-approve", check=0)
    cli("plan", path, *args, "--detailed-exitcode", check=0)
    v = seg(vhost)
    assert sorted(b["arguments"]["region"] for b in admin.get(f"/api/exchanges/{v}/shop.all/bindings/source")) == [
        "eu", "uk"]
    assert admin.get(f"/api/operator-policies/{v}/cap-everything")["definition"] == {"max-length": 100000}

    admin.put(f"/api/operator-policies/{v}/cap-everything",
              {"pattern": ".*", "apply-to": "queues", "definition": {"max-length": 5}})
    code, out = cli("plan", path, *args, "--detailed-exitcode")
    assert code == 2 and "definition.max-length   5 -> 100000" in out
    assert "0 to create, 1 to update, 0 to replace, 0 to delete." in out
    cli("apply", path, *args, "--auto-approve", check=0)
    assert admin.get(f"/api/operator-policies/{v}/cap-everything")["definition"] == {"max-length": 100000}
    cli("plan", path, *args, "--detailed-exitcode", check=0)


def test_a_shovel_uri_password_is_given_by_reference_sent_resolved_and_never_shown(
        tmp_path, admin, vhost, monkeypatch):
    """Before: `${env:...}` inside a parameter value reached the broker as literal text (a broken shovel)."""
    monkeypatch.setenv("BF_TEST_SHOVEL_PASSWORD", "Shovel-Pass-1")
    path = write_manifest(tmp_path / "m", """
    queues:
      outbox: {type: classic}
    parameters:
      to-archive:
        component: shovel
        value:
          src-protocol: amqp091
          src-uri: "amqp://shoveller:${env:BF_TEST_SHOVEL_PASSWORD}@127.0.0.1:1/%2F"
          src-queue: outbox
          dest-protocol: amqp091
          dest-uri: "amqp://shoveller:${env:BF_TEST_SHOVEL_PASSWORD}@127.0.0.1:1/archive"
          dest-queue: archived
""")
    code, out = cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    assert "Shovel-Pass-1" not in out
    live = admin.get(f"/api/parameters/shovel/{seg(vhost)}/to-archive")["value"]
    assert (live["src-uri"], live["dest-uri"]) == ("amqp://shoveller:Shovel-Pass-1@127.0.0.1:1/%2F",
                                                   "amqp://shoveller:Shovel-Pass-1@127.0.0.1:1/archive")
    cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode", check=0)

    monkeypatch.setenv("BF_TEST_SHOVEL_PASSWORD", "Shovel-Pass-2")  # the password was rotated
    code, out = cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode")
    assert code == 2
    assert '~ value.src-uri    "amqp://shoveller:***@127.0.0.1:1/%2F" -> ' \
           '"amqp://shoveller:${env:BF_TEST_SHOVEL_PASSWORD}@127.0.0.1:1/%2F"' in out, out
    assert "Shovel-Pass" not in out
    saved = tmp_path / "plan.json"
    cli("plan", path, "--var", f"vhost={vhost}", "--out", saved, check=0)
    assert "Shovel-Pass" not in saved.read_text()
    cli("apply", "--plan", saved, check=0)  # the file's redacted values still match the plan apply computes
    live = admin.get(f"/api/parameters/shovel/{seg(vhost)}/to-archive")["value"]
    assert live["src-uri"] == "amqp://shoveller:Shovel-Pass-2@127.0.0.1:1/%2F"


def test_users_whose_passwords_cannot_be_resolved_are_blocked_at_their_lines_and_nothing_is_applied(
        tmp_path, admin, vhost, monkeypatch):
    """Before: plan showed `+ user`, and apply created the vhost, then failed on the first user."""
    monkeypatch.delenv("BF_TEST_UNSET_PASSWORD", raising=False)
    monkeypatch.setenv("BF_TEST_EMPTY_PASSWORD", "")  # how a CI secret that is not set usually arrives
    monkeypatch.setenv("BF_TEST_GOOD_PASSWORD", "good-pass-1")
    path = write_manifest(tmp_path / "m", f"""
    users:
      {vhost}-a1: {{password: "${{env:BF_TEST_UNSET_PASSWORD}}"}}
      {vhost}-a2: {{password: "${{file:missing.txt}}"}}
      {vhost}-a3: {{password: "${{env:BF_TEST_EMPTY_PASSWORD}}"}}
      {vhost}-ok: {{password: "${{env:BF_TEST_GOOD_PASSWORD}}"}}
""")
    code, out = cli("plan", path, "--var", f"vhost={vhost}")
    assert code == 1
    assert [line.strip() for line in out.splitlines() if "BLOCKED" in line] == [
        f"BLOCKED: {path}:13:{len(vhost) + 23}: targets.rmq.users.{vhost}-a1.password: "
        "environment variable BF_TEST_UNSET_PASSWORD is not set",
        f"BLOCKED: {path}:14:{len(vhost) + 23}: targets.rmq.users.{vhost}-a2.password: "
        f"cannot read {tmp_path / 'm' / 'missing.txt'}: No such file or directory",
        f"BLOCKED: {path}:15:{len(vhost) + 23}: targets.rmq.users.{vhost}-a3.password: "
        "resolves to an empty value; a secret needs one (is it set where this runs?)",
    ]
    assert f"+ user {vhost}-ok" in out
    code, out = cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve")
    assert code == 1
    assert admin.get(f"/api/vhosts/{seg(vhost)}") is None
    assert admin.get(f"/api/users/{seg(vhost)}-ok") is None


def test_an_existing_user_whose_password_secret_is_gone_is_a_blocked_update_not_a_target_error(
        tmp_path, admin, vhost, monkeypatch):
    user = f"{vhost}-svc"
    monkeypatch.setenv("BF_TEST_SVC_PASSWORD", "declared-pass-1")
    path = write_manifest(tmp_path / "m", f"""
    queues:
      jobs: {{type: classic}}
    users:
      {user}: {{password: "${{env:BF_TEST_SVC_PASSWORD}}"}}
""")
    try:
        cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
        monkeypatch.delenv("BF_TEST_SVC_PASSWORD")
        code, out = cli("plan", path, "--var", f"vhost={vhost}")
        assert code == 1
        assert f"! user {user}" in out, out
        assert (f"BLOCKED: {path}:15:{len(user) + 20}: targets.rmq.users.{user}.password: "
                "environment variable BF_TEST_SVC_PASSWORD is not set") in out, out
        assert 'password   "(not compared: its secret cannot be resolved)" -> "${env:BF_TEST_SVC_PASSWORD}"' in out
    finally:
        admin.delete(f"/api/users/{seg(user)}")


def test_vhost_create_false_for_a_missing_vhost_is_a_plan_error_not_a_plan_of_creates(tmp_path, admin, vhost):
    path = write_manifest(tmp_path / "m", "    vhost: {create: false}\n    queues:\n      orders: {}\n")
    code, out = cli("plan", path, "--var", f"vhost={vhost}")
    assert code == 1
    assert (f"  error: vhost {vhost!r} does not exist and vhost.create is false: create it first, or set "
            "vhost.create: true to let brokerform create it") in out.splitlines()
    assert "+ queue" not in out
    assert admin.get(f"/api/vhosts/{seg(vhost)}") is None


def test_a_vhost_at_its_live_queue_limit_names_max_queues_when_the_lock_queue_cannot_be_declared(
        tmp_path, admin, vhost):
    admin.create_vhost(vhost)
    admin.put(f"/api/vhost-limits/{seg(vhost)}/max-queues", {"value": 1})
    admin.put(f"/api/queues/{seg(vhost)}/orders", {"durable": True})
    path = write_manifest(tmp_path / "m", "    queues:\n      orders: {}\n    exchanges:\n      shop: {}\n")
    code, out = cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve")
    assert code == 1
    assert (f"cannot take the apply lock: vhost {vhost!r} is at its max-queues limit and brokerform's lock is a "
            "queue ('brokerform.lock'); raise max-queues (vhost: max_queues) by one or delete a queue") in out
    assert "HTTP 400" not in out
    assert admin.get(f"/api/exchanges/{seg(vhost)}/shop") is None


def test_a_password_equal_to_object_names_renames_nothing_and_its_saved_plan_applies(
        tmp_path, admin, vhost, monkeypatch):
    """Before: queues `orders` and `guest` were both printed and saved as `***`, and apply --plan
    called the untouched file edited."""
    monkeypatch.setenv("BF_TEST_P1", "guest")
    monkeypatch.setenv("BF_TEST_P2", "orders")
    path = write_manifest(tmp_path / "m", f"""
    exchanges:
      orders: {{type: topic}}
    queues:
      orders: {{type: classic}}
      guest: {{type: classic}}
    bindings:
      - {{source: orders, destination: orders, routing_key: "orders.#"}}
    users:
      {vhost}-a: {{password: "${{env:BF_TEST_P1}}"}}
      {vhost}-b: {{password: "${{env:BF_TEST_P2}}"}}
""")
    saved = tmp_path / "plan.json"
    try:
        code, out = cli("plan", path, "--var", f"vhost={vhost}", "--out", saved)
        assert code == 0, out
        assert f"+ queue {vhost}/orders" in out and f"+ queue {vhost}/guest" in out
        ids = {c["id"] for t in json.loads(saved.read_text())["targets"] for c in t["changes"]}
        assert {f"rmq.queue[{vhost}/orders]", f"rmq.queue[{vhost}/guest]"} <= ids
        cli("apply", "--plan", saved, check=0)
        cli("plan", path, "--var", f"vhost={vhost}", "--detailed-exitcode", check=0)
    finally:
        for user in (f"{vhost}-a", f"{vhost}-b"):
            admin.delete(f"/api/users/{seg(user)}")
