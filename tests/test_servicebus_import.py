"""`brokerform import azure-servicebus` writes a manifest that plans with no changes.

Includes the round trip of the shared corpus' ARM JSON and Bicep declarations: each file
is translated (tests/support/servicebus_templates.py) into entities on the contract
server, imported, and re-planned.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

pytest.importorskip("azure.mgmt.servicebus")

from support import servicebus_harness as harness  # noqa: E402
from support.servicebus_harness import azure, cli  # noqa: E402,F401 - fixture
from support.arm_servicebus import ArmServiceBusServer  # noqa: E402
from support.servicebus_templates import deploy, read_declarations  # noqa: E402


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "servicebus-payments" / "manifest.yaml"
contract_only = pytest.mark.skipif(harness.LIVE, reason="creates namespaces on the contract server")
CORPUS_PARAMETERS = {
    "serviceBusNamespaceName": "corpus-ns1",
    "namespaceAuthorizationRuleName": "ns-send",
    "serviceBusQueueName": "orders",
    "queueAuthorizationRuleName": "q-listen",
    "serviceBusTopicName": "events",
    "serviceBusSubscriptionName": "audit",
    "serviceBusRuleName": "tagged",
}


@pytest.fixture(scope="module")
def server():
    if harness.LIVE:
        yield None
        return
    with ArmServiceBusServer(page_size=3) as srv:
        yield srv


def import_namespace(azure, namespace: str, out: Path) -> dict:
    args = ["import", "azure-servicebus", "--subscription-id", azure.subscription_id,
            "--resource-group", azure.resource_group, "--namespace", namespace, "-o", str(out)]
    if azure.endpoint:
        args += ["--endpoint", azure.endpoint]
    code, output = cli(*args)
    assert code == 0, output
    return yaml.safe_load(out.read_text(encoding="utf-8"))


def assert_no_changes(manifest: Path) -> None:
    code, out = cli("plan", str(manifest), "--output", "json", "--detailed-exitcode")
    plan = json.loads(out)
    pending = [c["id"] for t in plan["targets"] for c in t["changes"] if c["action"] != "noop"]
    assert (code, pending, [t["error"] for t in plan["targets"]]) == (0, [], [None])


def test_importing_the_applied_payments_example_round_trips(azure, tmp_path):
    manifest = harness.copy_manifest(EXAMPLE, tmp_path / "m")
    code, out = cli("apply", str(manifest), "--auto-approve")
    assert code == 0, out
    data = import_namespace(azure, azure.namespace, tmp_path / "imported.yaml")
    assert_no_changes(tmp_path / "imported.yaml")

    target = data["targets"][azure.namespace]
    assert target["authorization_rules"] == {"payments-operator": {"rights": ["Listen", "Send"]},
                                             "payments-publisher": {"rights": ["Send"]}}
    assert target["queues"]["payments.settlement"] == {
        "lock_duration": "2m",
        "max_delivery_count": 8,
        "default_message_ttl": "2w",
        "requires_session": True,
        "dead_lettering_on_message_expiration": True,
        "forward_dead_lettered_messages_to": "payments.deadletters",
        "requires_duplicate_detection": True,
        "duplicate_detection_window": "30m",
        "authorization_rules": {"settlement-sender": {"rights": ["Send"]}, "settlement-worker": {"rights": ["Listen"]}},
    }
    events = target["topics"]["payments.events"]["subscriptions"]
    assert events["fraud"]["rules"] == {"filter": {"correlation": {"properties": {"eventType": "payment.authorized",
                                                                                  "channel": "card"}}}}
    assert events["notifications"].get("rules") is None and "keep_default_rule" not in events["notifications"]
    audit = target["topics"]["payments.audit"]["subscriptions"]
    assert audit["archive"]["rules"]["high-value"] == {
        "sql": {"expression": "amount >= 10000 AND currency = 'EUR'", "action": "SET priority = 'high'"}}
    assert audit["settlement-bridge"] == {"forward_to": "payments.settlement"}


@contract_only
@pytest.mark.parametrize("name", [
    "quickstart-authrule-namespace-and-queue.azuredeploy.json",
    "quickstart-create-queue.main.bicep",
    "quickstart-topic-subscription-rule.azuredeploy.json",
    "refgen-subscription-correlation-rule.main.bicep",
    "sbperf-standard-servicebus.bicep",
])
def test_corpus_declarations_deployed_to_arm_import_and_replan_with_no_changes(azure, corpus, tmp_path, name):
    deployments = read_declarations(corpus / "servicebus" / name, CORPUS_PARAMETERS)
    [namespace] = {d.names[0] for d in deployments}
    with azure.sdk() as sdk:
        deploy(sdk, azure.resource_group, deployments)
    out = tmp_path / "imported.yaml"
    data = import_namespace(azure, namespace, out)
    assert_no_changes(out)
    target = data["targets"][namespace]
    entities = {("queue", n) for n in target.get("queues", {})} | {("topic", n) for n in target.get("topics", {})}
    declared = {(d.types[-1][:-1], d.names[1]) for d in deployments if len(d.types) == 2 and d.types[1] != "authorizationrules"}
    assert entities == declared
    subscriptions = sum(len(t.get("subscriptions", {})) for t in target.get("topics", {}).values())
    assert subscriptions == sum(1 for d in deployments if d.types[-1] == "subscriptions")


@contract_only
def test_corpus_values_survive_the_import(azure, corpus, tmp_path):
    """Spot checks of the translated values: string-typed ARM values, max TimeSpans, correlation filters."""
    for name in ("quickstart-topic-subscription-rule.azuredeploy.json", "refgen-subscription-correlation-rule.main.bicep",
                 "sbperf-standard-servicebus.bicep", "quickstart-authrule-namespace-and-queue.azuredeploy.json"):
        with azure.sdk() as sdk:
            deploy(sdk, azure.resource_group, read_declarations(corpus / "servicebus" / name, CORPUS_PARAMETERS))
    topic = import_namespace(azure, "corpus-ns1", tmp_path / "a.yaml")["targets"]["corpus-ns1"]
    assert topic["topics"]["events"] == {
        "enable_batched_operations": False,
        "support_ordering": False,
        "subscriptions": {"audit": {"enable_batched_operations": False,
                                    "keep_default_rule": True,  # ARM adds rules beside $Default
                                    "rules": {"tagged": {"sql": {"expression": "FilterTag = 'true'"}}}}},
    }
    assert topic["queues"]["orders"] == {"lock_duration": "5m", "authorization_rules": {"q-listen": {"rights": ["Listen"]}}}
    assert topic["authorization_rules"] == {"ns-send": {"rights": ["Send"]}}
    refgen = import_namespace(azure, "acctest0001", tmp_path / "b.yaml")["targets"]["acctest0001"]
    sub = refgen["topics"]["acctest0001"]["subscriptions"]["acctest0001"]
    assert sub["rules"]["acctest0001"]["correlation"] == {
        "correlation_id": "test_correlation_id", "message_id": "test_message_id", "to": "test_to",
        "reply_to": "test_reply_to", "label": "test_label", "session_id": "test_session_id",
        "reply_to_session_id": "test_reply_to_session_id", "content_type": "test_content_type"}
    perf = import_namespace(azure, "brwsStandardSB", tmp_path / "c.yaml")["targets"]["brwsStandardSB"]
    assert len(perf["topics"]["t-subs50"]["subscriptions"]) == 50
    correlation = perf["topics"]["t-filter-correlation"]["subscriptions"]["subscriptionFilterCorrelation"]
    assert correlation["keep_default_rule"] is True
    assert correlation["rules"] == {f"CorrelationFilter-{p}": {"correlation": {"properties": {"Priority": p}}}
                                    for p in ("High", "Low", "Normal")}
    assert perf["queues"]["q-sessions-on"] == {"lock_duration": "5m", "default_message_ttl": "10m",
                                               "max_size_mb": 5120, "requires_session": True}
