"""The Service Bus provider end to end: CLI -> provider -> real azure-mgmt-servicebus SDK -> ARM.

ARM is the local contract server (tests/support/arm_servicebus.py) unless
BROKERFORM_AZURE_LIVE=1 points these tests at a real namespace (see docs/providers/servicebus.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("azure.mgmt.servicebus")

from support import servicebus_harness as harness  # noqa: E402
from support.servicebus_harness import azure, cli  # noqa: E402,F401 - fixture
from support.arm_servicebus import ArmServiceBusServer  # noqa: E402


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "servicebus-payments" / "manifest.yaml"
contract_only = pytest.mark.skipif(harness.LIVE, reason="needs the contract server (request log, throttling)")


@pytest.fixture(scope="module")
def server():
    if harness.LIVE:
        yield None
        return
    with ArmServiceBusServer(page_size=2) as srv:
        yield srv


def apply(path: Path, *flags: str) -> tuple[int, str]:
    return cli("apply", str(path), "--auto-approve", *flags)


def plan_json(path: Path, *flags: str) -> dict:
    code, out = cli("plan", str(path), "--output", "json", *flags)
    assert code == 0, out
    return json.loads(out)


def actions(plan: dict) -> dict[str, str]:
    return {c["id"]: c["action"] for t in plan["targets"] for c in t["changes"] if c["action"] != "noop"}


def props(entity) -> dict:
    return dict(entity["properties"]) if not isinstance(entity, dict) else entity["properties"]


def test_payments_example_applies_and_replans_with_no_changes(azure, tmp_path):
    manifest = harness.copy_manifest(EXAMPLE, tmp_path / "m")
    code, out = apply(manifest)
    assert code == 0, out
    assert "23 succeeded, 0 failed, 0 skipped" in out or harness.LIVE

    code, out = cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0, out
    assert "0 to create, 0 to update, 0 to replace, 0 to delete" in out

    with azure.sdk() as sdk:
        rg, ns = azure.resource_group, azure.namespace
        settlement = sdk.queues.get(rg, ns, "payments.settlement").properties
        assert (settlement.requires_session, settlement.requires_duplicate_detection) == (True, True)
        assert settlement.lock_duration.total_seconds() == 120
        assert settlement.forward_dead_lettered_messages_to == "payments.deadletters"
        assert sdk.queues.get(rg, ns, "payments.inbox").properties.forward_to == "payments.settlement"
        rules = {s: sorted(r.name for r in sdk.rules.list_by_subscriptions(rg, ns, "payments.events", s))
                 for s in ("ledger", "fraud", "notifications")}
        assert rules == {"ledger": ["filter"], "fraud": ["filter"], "notifications": ["$Default"]}
        fraud = sdk.rules.get(rg, ns, "payments.events", "fraud", "filter").properties
        assert fraud.filter_type == "CorrelationFilter"
        assert dict(fraud.correlation_filter.properties) == {"eventType": "payment.authorized", "channel": "card"}
        archive = sorted(r.name for r in sdk.rules.list_by_subscriptions(rg, ns, "payments.audit", "archive"))
        assert archive == ["high-value", "refunds"]
        high = sdk.rules.get(rg, ns, "payments.audit", "archive", "high-value").properties
        assert high.action.sql_expression == "SET priority = 'high'"
        ledger = sdk.subscriptions.get(rg, ns, "payments.events", "ledger").properties
        assert (ledger.max_delivery_count, ledger.dead_lettering_on_message_expiration) == (5, True)
        assert ledger.forward_dead_lettered_messages_to == "payments.deadletters"
        events = sdk.topics.get(rg, ns, "payments.events").properties
        assert events.requires_duplicate_detection is True
        assert events.duplicate_detection_history_time_window.total_seconds() == 600
        ns_rules = {r.name: sorted(r.properties.rights) for r in sdk.namespaces.list_authorization_rules(rg, ns)}
        assert ns_rules["payments-publisher"] == ["Send"]
        assert ns_rules["payments-operator"] == ["Listen", "Send"]


@contract_only
def test_plan_reads_with_list_calls_only_and_follows_every_next_link(azure, tmp_path):
    manifest = harness.copy_manifest(EXAMPLE, tmp_path / "m")
    assert apply(manifest)[0] == 0
    srv = azure.server
    srv.request_log.clear()
    assert plan_json(manifest)["has_changes"] is False
    gets = [r.path for r in srv.request_log if r.method == "GET"]
    assert len(gets) == len(srv.request_log)
    single = [p for p in gets if not p.lower().endswith(("/queues", "/topics", "/subscriptions", "/rules",
                                                         "/authorizationrules")) and r"/namespaces/" in p]
    assert [p.rsplit("/", 1)[-1] for p in single] == [azure.namespace]  # one GET: the namespace itself
    assert any(r.query.get("$skipToken") for r in srv.request_log)  # page_size=2: pagination in use


def test_a_session_change_is_refused_without_allow_replace_and_recreates_referrers_with_it(azure, tmp_path):
    manifest = harness.copy_manifest(EXAMPLE, tmp_path / "m")
    assert apply(manifest)[0] == 0

    def no_sessions(data):
        data["targets"]["payments-sb"]["queues"]["payments.settlement"]["requires_session"] = False

    changed = harness.copy_manifest(EXAMPLE, tmp_path / "changed", no_sessions)
    planned = actions(plan_json(changed))
    assert planned == {
        "payments-sb.queue['payments.settlement']": "replace",
        "payments-sb.queue['payments.inbox']": "replace",  # forwardTo referrer
        "payments-sb.subscription[payments.audit/settlement-bridge]": "replace",  # forwardTo referrer
        "payments-sb.rule[payments.audit/settlement-bridge/$Default]": "replace",
        "payments-sb.authorization_rule[queues/payments.settlement/settlement-sender]": "replace",
        "payments-sb.authorization_rule[queues/payments.settlement/settlement-worker]": "replace",
    }
    code, out = apply(changed)
    assert code == 1
    assert "needs --allow-replace" in out
    with azure.sdk() as sdk:
        assert sdk.queues.get(azure.resource_group, azure.namespace, "payments.settlement").properties.requires_session

    code, out = apply(changed, "--allow-replace")
    assert code == 0, out
    assert "6 succeeded, 0 failed, 0 skipped" in out
    rg, ns = azure.resource_group, azure.namespace
    with azure.sdk() as sdk:
        settlement = sdk.queues.get(rg, ns, "payments.settlement").properties
        assert settlement.requires_session is False
        assert settlement.requires_duplicate_detection is True and settlement.max_delivery_count == 8
        assert sdk.queues.get(rg, ns, "payments.inbox").properties.forward_to == "payments.settlement"
        bridge = sdk.subscriptions.get(rg, ns, "payments.audit", "settlement-bridge").properties
        assert bridge.forward_to == "payments.settlement"
        assert [r.name for r in sdk.rules.list_by_subscriptions(rg, ns, "payments.audit", "settlement-bridge")] == ["$Default"]
        assert sorted(r.name for r in sdk.queues.list_authorization_rules(rg, ns, "payments.settlement")) == [
            "settlement-sender", "settlement-worker"]
    assert plan_json(changed)["has_changes"] is False


def test_a_topic_duplicate_detection_change_recreates_its_subscriptions_and_rules(azure, tmp_path):
    manifest = harness.copy_manifest(EXAMPLE, tmp_path / "m")
    assert apply(manifest)[0] == 0

    def no_dedup(data):
        topic = data["targets"]["payments-sb"]["topics"]["payments.audit"]
        topic["requires_duplicate_detection"] = False
        del topic["duplicate_detection_window"]

    changed = harness.copy_manifest(EXAMPLE, tmp_path / "changed", no_dedup)
    planned = actions(plan_json(changed, "--allow-replace"))
    assert sorted(a for a, act in planned.items() if act == "replace") == sorted([
        "payments-sb.topic['payments.audit']",
        "payments-sb.authorization_rule[topics/payments.audit/audit-reader]",
        "payments-sb.subscription[payments.audit/archive]",
        "payments-sb.subscription[payments.audit/settlement-bridge]",
        "payments-sb.rule[payments.audit/archive/high-value]",
        "payments-sb.rule[payments.audit/archive/refunds]",
        "payments-sb.rule[payments.audit/settlement-bridge/$Default]",
    ])
    code, out = apply(changed, "--allow-replace")
    assert code == 0, out
    rg, ns = azure.resource_group, azure.namespace
    with azure.sdk() as sdk:
        assert sdk.topics.get(rg, ns, "payments.audit").properties.requires_duplicate_detection is False
        assert sorted(s.name for s in sdk.subscriptions.list_by_topic(rg, ns, "payments.audit")) == [
            "archive", "settlement-bridge"]
        assert sorted(r.name for r in sdk.rules.list_by_subscriptions(rg, ns, "payments.audit", "archive")) == [
            "high-value", "refunds"]
        assert [r.name for r in sdk.topics.list_authorization_rules(rg, ns, "payments.audit")] == ["audit-reader"]
    assert plan_json(changed)["has_changes"] is False



@contract_only
def test_a_topic_replace_recreates_an_unmanaged_subscription_and_needs_allow_data_loss_for_its_messages(
        azure, tmp_path):
    from azure.mgmt.servicebus import models as m

    manifest = harness.copy_manifest(EXAMPLE, tmp_path / "m")
    assert apply(manifest)[0] == 0
    rg, ns = azure.resource_group, azure.namespace
    with azure.sdk() as sdk:
        sdk.subscriptions.create_or_update(rg, ns, "payments.audit", "by-hand", m.SBSubscription(max_delivery_count=4))
        sdk.rules.create_or_update(rg, ns, "payments.audit", "by-hand", "big",
                                   m.Rule(filter_type="SqlFilter", sql_filter=m.SqlFilter(sql_expression="amount > 1000")))
    azure.server.set_message_counts(rg, ns, "payments.audit/by-hand", activeMessageCount=42)

    def no_dedup(data):
        topic = data["targets"]["payments-sb"]["topics"]["payments.audit"]
        topic["requires_duplicate_detection"] = False
        del topic["duplicate_detection_window"]

    changed = harness.copy_manifest(EXAMPLE, tmp_path / "changed", no_dedup)
    [target] = plan_json(changed, "--allow-replace")["targets"]
    by_id = {c["id"]: c for c in target["changes"]}
    sub = by_id["payments-sb.subscription[payments.audit/by-hand]"]
    assert (sub["action"], sub["reason"], sub["destructive"], sub["messages"]) == (
        "replace", "dependency replaced", True, 42)
    assert sub["refused"] == "would lose 42 message(s); needs --allow-data-loss"
    assert sorted(i for i, c in by_id.items() if "by-hand" in i and c["action"] == "replace") == [
        "payments-sb.rule[payments.audit/by-hand/$Default]",  # Service Bus adds it to a new subscription
        "payments-sb.rule[payments.audit/by-hand/big]",
        "payments-sb.subscription[payments.audit/by-hand]",
    ]
    assert not [a for a in target["unmanaged"] if a["name"] in ("by-hand", "big")]

    code, out = apply(changed, "--allow-replace")
    assert code == 1 and "needs --allow-data-loss" in out
    code, out = apply(changed, "--allow-replace", "--allow-data-loss")
    assert code == 0, out
    with azure.sdk() as sdk:
        assert sdk.subscriptions.get(rg, ns, "payments.audit", "by-hand").properties.max_delivery_count == 4
        big = sdk.rules.get(rg, ns, "payments.audit", "by-hand", "big").properties
        assert big.sql_filter.sql_expression == "amount > 1000"
        assert sorted(r.name for r in sdk.rules.list_by_subscriptions(rg, ns, "payments.audit", "by-hand")) == [
            "$Default", "big"]
    again = plan_json(changed)
    assert again["has_changes"] is False
    assert sorted(a["name"] for a in again["targets"][0]["unmanaged"]) == ["$Default", "big", "by-hand"]


QUEUE_ONLY = """
brokerform: 1
targets:
  sb:
    type: azure-servicebus
    subscription_id: ${env:AZURE_SUBSCRIPTION_ID}
    resource_group: ${env:AZURE_RESOURCE_GROUP}
    namespace: ${env:AZURE_SERVICEBUS_NAMESPACE}
    endpoint: ${env:AZURE_ARM_ENDPOINT:-https://management.azure.com}
    queues:
      billing.jobs:
        lock_duration: LOCK
"""


def test_a_service_principal_secret_is_resolved_by_reference_and_redacted(monkeypatch):
    from azure.identity import ClientSecretCredential

    from brokerform.model.servicebus import ServiceBusTarget
    from brokerform.providers.servicebus.provider import default_credential
    from brokerform.secrets import redact

    monkeypatch.setenv("SB_TEST_CLIENT_SECRET", "s3cr3t-value-for-redaction")
    target = ServiceBusTarget.model_validate({
        "type": "azure-servicebus", "subscription_id": "sub", "resource_group": "rg", "namespace": "ns1234",
        "credential": {"tenant_id": "tenant", "client_id": "client", "client_secret": "${env:SB_TEST_CLIENT_SECRET}"}})
    assert isinstance(default_credential(target, None), ClientSecretCredential)
    assert redact("token request with s3cr3t-value-for-redaction failed") == "token request with *** failed"


def test_an_update_keeps_live_values_of_properties_the_manifest_leaves_out(azure, tmp_path):
    azure.create_namespace()
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(QUEUE_ONLY.replace("LOCK", "30s"), encoding="utf-8")
    assert apply(manifest)[0] == 0
    rg, ns = azure.resource_group, azure.namespace
    with azure.sdk() as sdk:  # someone sets properties the manifest does not declare
        from azure.mgmt.servicebus import models as m

        current = sdk.queues.get(rg, ns, "billing.jobs")
        current.properties.max_delivery_count = 7
        current.properties.dead_lettering_on_message_expiration = True
        sdk.queues.create_or_update(rg, ns, "billing.jobs", m.SBQueue({"properties": dict(current.properties)}))

    manifest.write_text(QUEUE_ONLY.replace("LOCK", "90s"), encoding="utf-8")
    plan = plan_json(manifest)
    [change] = [c for c in plan["targets"][0]["changes"] if c["action"] != "noop"]
    assert [a["path"] for a in change["attributes"]] == ["lockDuration"]
    assert apply(manifest)[0] == 0
    with azure.sdk() as sdk:
        queue = sdk.queues.get(rg, ns, "billing.jobs").properties
        assert queue.lock_duration.total_seconds() == 90
        assert queue.max_delivery_count == 7
        assert queue.dead_lettering_on_message_expiration is True


@contract_only
def test_apply_polls_until_arm_returns_the_updated_entity(azure, tmp_path):
    azure.create_namespace()
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(QUEUE_ONLY.replace("LOCK", "30s"), encoding="utf-8")
    assert apply(manifest)[0] == 0
    srv = azure.server
    srv.lag_reads(2)
    manifest.write_text(QUEUE_ONLY.replace("LOCK", "45s"), encoding="utf-8")
    srv.request_log.clear()
    code, out = apply(manifest)
    assert code == 0, out
    after_put = [r.method for r in srv.request_log if r.path.lower().endswith("/queues/billing.jobs")]
    assert after_put == ["PUT", "GET", "GET", "GET"]  # two stale reads, then the new lockDuration
    assert plan_json(manifest)["has_changes"] is False


@contract_only
def test_throttled_reads_and_writes_are_retried_after_retry_after(azure, tmp_path):
    manifest = harness.copy_manifest(EXAMPLE, tmp_path / "m")
    srv = azure.server
    srv.throttle_next(2, retry_after=1)
    code, out = apply(manifest)
    assert code == 0, out
    assert srv.response_log[:2] == [429, 429]
    assert srv.response_log[2] == 404  # the retried namespace GET went through: not there yet, apply creates it
    srv.throttle_next(1, retry_after=1)
    assert plan_json(manifest)["has_changes"] is False
    assert srv.response_log.count(429) == 3


@contract_only
def test_throttling_beyond_the_sdk_retries_is_a_transient_error_with_retry_after(azure, monkeypatch):
    from brokerform.errors import ProviderError
    from brokerform.model.servicebus import ServiceBusTarget
    from brokerform.plan.model import Action, Change, Reason
    from brokerform.providers.servicebus.provider import ServiceBusProvider
    from brokerform.resources import Address, Resource

    azure.create_namespace()
    monkeypatch.setenv("BROKERFORM_AZURE_RETRY_TOTAL", "0")
    target = ServiceBusTarget.model_validate({
        "type": "azure-servicebus", "subscription_id": azure.subscription_id, "resource_group": azure.resource_group,
        "namespace": azure.namespace, "endpoint": azure.endpoint})
    address = Address("sb", "queue", "", "throttled.q")
    with ServiceBusProvider("sb", target) as provider:
        azure.server.throttle_next(1, retry_after=3)
        with pytest.raises(ProviderError) as caught:
            provider.apply(Change(address, Action.CREATE, Reason.NEW, desired=Resource(address, {"maxDeliveryCount": 4})))
        assert caught.value.transient is True
        assert caught.value.retry_after == 3
        assert "TooManyRequests" in caught.value.message
        provider.apply(Change(address, Action.CREATE, Reason.NEW, desired=Resource(address, {"maxDeliveryCount": 4})))
    with azure.sdk() as sdk:
        assert sdk.queues.get(azure.resource_group, azure.namespace, "throttled.q").properties.max_delivery_count == 4


SUBSCRIPTION = """
brokerform: 1
targets:
  sb:
    type: azure-servicebus
    subscription_id: ${env:AZURE_SUBSCRIPTION_ID}
    resource_group: ${env:AZURE_RESOURCE_GROUP}
    namespace: ${env:AZURE_SERVICEBUS_NAMESPACE}
    endpoint: ${env:AZURE_ARM_ENDPOINT:-https://management.azure.com}
    topics:
      orders:
        subscriptions:
          eu:
            KEEP
            rules:
              eu-only: {sql: {expression: "region = 'eu'"}}
"""


def test_the_default_rule_is_removed_kept_or_restored_as_declared(azure, tmp_path):
    azure.create_namespace()
    manifest = tmp_path / "manifest.yaml"
    rg, ns = azure.resource_group, azure.namespace

    def rules() -> list[str]:
        with azure.sdk() as sdk:
            return sorted(r.name for r in sdk.rules.list_by_subscriptions(rg, ns, "orders", "eu"))

    manifest.write_text(SUBSCRIPTION.replace("KEEP", "keep_default_rule: false"), encoding="utf-8")
    assert apply(manifest)[0] == 0
    assert rules() == ["eu-only"]
    manifest.write_text(SUBSCRIPTION.replace("KEEP", "keep_default_rule: true"), encoding="utf-8")
    assert actions(plan_json(manifest)) == {"sb.subscription[orders/eu]": "update", "sb.rule[orders/eu/$Default]": "create"}
    assert apply(manifest)[0] == 0
    assert rules() == ["$Default", "eu-only"]
    assert plan_json(manifest)["has_changes"] is False
    manifest.write_text(SUBSCRIPTION.replace("KEEP", ""), encoding="utf-8")  # rules declared: $Default goes
    assert apply(manifest)[0] == 0
    assert rules() == ["eu-only"]
    assert plan_json(manifest)["has_changes"] is False


@contract_only
def test_the_live_basic_tier_blocks_sessions_the_manifest_asks_for(azure, tmp_path):
    azure.create_namespace(sku="Basic")
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(QUEUE_ONLY.replace("lock_duration: LOCK", "requires_session: true"), encoding="utf-8")
    code, out = cli("plan", str(manifest), "--output", "json")
    assert code == 1
    plan = json.loads(out)
    [change] = plan["targets"][0]["changes"]
    assert change["action"] == "blocked"
    assert change["blocked_reason"] == "the live namespace is Basic: the Basic tier has no sessions; use Standard or Premium"


@contract_only
def test_plain_http_needs_the_explicit_loopback_opt_in(azure, tmp_path, monkeypatch):
    azure.create_namespace()
    monkeypatch.delenv("BROKERFORM_AZURE_ALLOW_HTTP")
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(QUEUE_ONLY.replace("LOCK", "30s"), encoding="utf-8")
    code, out = cli("plan", str(manifest))
    assert code == 1
    assert "set BROKERFORM_AZURE_ALLOW_HTTP=1" in out


@contract_only
def test_a_missing_unmanaged_namespace_is_a_clear_plan_error(azure, tmp_path):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(QUEUE_ONLY.replace("LOCK", "30s"), encoding="utf-8")
    code, out = cli("plan", str(manifest), "--output", "json")
    assert code == 1
    error = json.loads(out)["targets"][0]["error"]
    assert error == (f"namespace {azure.namespace!r} was not found in resource group {azure.resource_group!r} "
                     "(create it, or set namespace_settings.manage: true)")


@contract_only
def test_pruning_a_queue_that_holds_messages_needs_allow_data_loss(azure, tmp_path):
    azure.create_namespace()
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(QUEUE_ONLY.replace("LOCK", "30s"), encoding="utf-8")
    assert apply(manifest)[0] == 0
    azure.server.set_message_counts(azure.resource_group, azure.namespace, "billing.jobs",
                                    activeMessageCount=3, deadLetterMessageCount=1)
    manifest.write_text(QUEUE_ONLY.replace("    queues:\n      billing.jobs:\n        lock_duration: LOCK\n", ""),
                        encoding="utf-8")
    plan = plan_json(manifest, "--prune")
    [change] = [c for c in plan["targets"][0]["changes"] if c["action"] != "noop"]
    assert (change["action"], change["messages"], change["destructive"]) == ("delete", 4, True)
    assert change["refused"] == "would lose 4 message(s); needs --allow-data-loss"
    code, out = apply(manifest, "--prune")
    assert code == 1
    assert apply(manifest, "--prune", "--allow-data-loss")[0] == 0
    with azure.sdk() as sdk:
        assert [q.name for q in sdk.queues.list_by_namespace(azure.resource_group, azure.namespace)] == []
