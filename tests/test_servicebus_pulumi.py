"""`brokerform export pulumi` for Service Bus targets: a pulumi_azure_native.servicebus program.

There is no Pulumi CLI here, so the program runs in-process under
`pulumi.runtime.set_mocks(..., preview=False)`; the mocks record every registered resource
with its resolved inputs, which the tests compare with the compiled manifest (numbers come
back from the mocks as floats).
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from click.testing import CliRunner

pulumi = pytest.importorskip("pulumi")
pytest.importorskip("pulumi_azure_native")

from brokerform.cli import main  # noqa: E402
from brokerform.compile import compile_manifest  # noqa: E402
from brokerform.manifest.loader import load_manifest  # noqa: E402
from brokerform.providers.servicebus.durations import ms_to_iso  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "servicebus-payments"
DURATIONS = {"lockDuration", "defaultMessageTimeToLive", "autoDeleteOnIdle", "duplicateDetectionHistoryTimeWindow"}
TYPES = {"namespace": "Namespace", "queue": "Queue", "topic": "Topic", "subscription": "Subscription", "rule": "Rule"}


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every resource's type and inputs; returns the inputs as the resource state."""

    def __init__(self):
        self.resources: dict[str, tuple[str, dict]] = {}

    def new_resource(self, args):
        self.resources[args.name] = (args.typ, dict(args.inputs))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args):
        return {}


def export(tmp_path: Path, manifest: Path = EXAMPLE, target: str = "payments-sb") -> Path:
    out = tmp_path / "project"
    result = CliRunner().invoke(main, ["export", "pulumi", str(manifest), "--target", target, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def run_program(project: Path) -> dict[str, tuple[str, dict]]:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="payments", stack="test", preview=False)

    @pulumi.runtime.test
    def program():
        namespace = runpy.run_path(str(project / "__main__.py"), run_name="__main__")
        resources = [v for v in namespace.values() if isinstance(v, pulumi.CustomResource)]
        return pulumi.Output.all(*[r.urn for r in resources])

    program()
    return mocks.resources


def plain(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# Defaults pulumi-azure-native fills into inputs the program leaves out (the same values ARM defaults to).
SDK_DEFAULTS = {"requiresPreprocessing": True, "publicNetworkAccess": "Enabled"}


def expected_inputs(resource, rg: str, ns: str) -> tuple[str, dict]:
    """What the program must declare for one compiled resource, in Pulumi's wire (camelCase) names."""
    pre = {"requiresPreprocessing": SDK_DEFAULTS["requiresPreprocessing"]}
    a, props = resource.address, resource.properties
    inputs = {"resourceGroupName": rg, "namespaceName": ns}
    if a.kind == "authorization_rule":
        owner = a.scope.split("/", 1)[0] if a.scope else ""
        kind = {"": "NamespaceAuthorizationRule", "queues": "QueueAuthorizationRule",
                "topics": "TopicAuthorizationRule"}[owner]
        if a.scope:
            inputs["queueName" if owner == "queues" else "topicName"] = a.scope.split("/", 1)[1]
        inputs.update(authorizationRuleName=a.name, rights=props["rights"])
        return f"azure-native:servicebus:{kind}", inputs
    if a.kind == "namespace":
        inputs.update(location=props["location"], sku={"name": props["sku"], "tier": props["sku"]},
                      minimumTlsVersion=props["minimumTlsVersion"], disableLocalAuth=props["disableLocalAuth"],
                      publicNetworkAccess=SDK_DEFAULTS["publicNetworkAccess"])
    elif a.kind == "rule":
        topic, sub = a.scope.split("/")
        inputs.update(topicName=topic, subscriptionName=sub, ruleName=a.name, filterType=props["filterType"])
        if props["filterType"] == "SqlFilter":
            inputs["sqlFilter"] = {"sqlExpression": props["sqlExpression"], **pre}
        else:
            correlation = dict(props["correlation"])
            if "properties" in correlation:
                correlation["properties"] = {k: str(v) for k, v in correlation["properties"].items()}
            inputs["correlationFilter"] = {**correlation, **pre}
        if "action" in props:
            inputs["action"] = {"sqlExpression": props["action"], **pre}
    else:
        if a.kind == "subscription":
            inputs.update(topicName=a.scope, subscriptionName=a.name)
        else:
            inputs[f"{a.kind}Name"] = a.name
        for key, value in props.items():
            if key != "keepDefaultRule":
                inputs[key] = ms_to_iso(value) if key in DURATIONS else value
    return f"azure-native:servicebus:{TYPES[a.kind]}", inputs


def test_the_exported_program_declares_every_resource_of_the_manifest_with_its_inputs(tmp_path):
    project = export(tmp_path)
    assert sorted(p.name for p in project.iterdir()) == ["Pulumi.yaml", "__main__.py", "requirements.txt"]
    recorded = {name: (typ, plain(inputs)) for name, (typ, inputs) in run_program(project).items()}
    desired = compile_manifest(load_manifest(EXAMPLE))["payments-sb"]
    expected = {}
    for resource in desired.resources.values():
        a = resource.address
        logical = f"{a.kind}:{a.scope}/{a.name}" if a.scope else f"{a.kind}:{a.name}"
        expected[logical] = expected_inputs(resource, "payments-rg", "payments-dev-ns")
    assert recorded == expected
    assert len(recorded) == 23


def test_the_exported_program_spells_durations_and_filters_the_way_arm_takes_them(tmp_path):
    recorded = run_program(export(tmp_path))
    settlement = plain(recorded["queue:payments.settlement"][1])
    assert (settlement["lockDuration"], settlement["duplicateDetectionHistoryTimeWindow"]) == ("PT2M", "PT30M")
    assert settlement["requiresSession"] is True
    assert settlement["forwardDeadLetteredMessagesTo"] == "payments.deadletters"
    fraud = plain(recorded["rule:payments.events/fraud/filter"][1])
    assert fraud["correlationFilter"] == {"properties": {"eventType": "payment.authorized", "channel": "card"},
                                          "requiresPreprocessing": True}
    high = plain(recorded["rule:payments.audit/archive/high-value"][1])
    assert high["action"] == {"sqlExpression": "SET priority = 'high'", "requiresPreprocessing": True}
    assert "keepDefaultRule" not in plain(recorded["subscription:payments.events/ledger"][1])


def test_the_program_names_the_default_rule_it_cannot_remove(tmp_path):
    program = (export(tmp_path) / "__main__.py").read_text(encoding="utf-8")
    assert program.count("# NOTE: Azure creates a $Default rule") == 3  # archive, ledger, fraud
    assert "import pulumi_azure_native.servicebus as servicebus" in program


def test_an_unmanaged_namespace_is_referenced_by_name_not_declared(tmp_path):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text("""
brokerform: 1
targets:
  sb:
    type: azure-servicebus
    subscription_id: 00000000-0000-0000-0000-000000000000
    resource_group: shared-rg
    namespace: shared-ns
    queues:
      jobs: {max_delivery_count: 3, lock_duration: 45s}
""", encoding="utf-8")
    recorded = {n: (t, plain(i)) for n, (t, i) in run_program(export(tmp_path, manifest, "sb")).items()}
    assert recorded == {"queue:jobs": ("azure-native:servicebus:Queue", {
        "resourceGroupName": "shared-rg", "namespaceName": "shared-ns", "queueName": "jobs",
        "maxDeliveryCount": 3, "lockDuration": "PT45S"})}
