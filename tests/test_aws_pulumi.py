"""`brokerform export pulumi` for AWS targets: the generated program, run in-process under Pulumi mocks.

There is no Pulumi CLI here, so the program runs under `pulumi.runtime.set_mocks(..., preview=False)`;
the mocks record every registered resource with its resolved inputs, which the tests compare with
the manifest (numbers come back from the mocks as floats, hence int() where needed).
"""

from __future__ import annotations

import filecmp
import json
import runpy
from pathlib import Path

import pytest
from click.testing import CliRunner

from brokerform.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "aws-notifications"
ACCOUNT = "111122223333"
REGION = "us-east-1"
P = "notif-"  # the example's default prefix (vars.yaml)

pulumi = pytest.importorskip("pulumi", reason="pulumi is part of the [dev] extra")
pytest.importorskip("pulumi_aws", reason="pulumi-aws is part of the [dev] extra")


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like AWS would (ARNs, queue URLs) and records every resource's inputs."""

    def __init__(self):
        self.resources: dict[str, tuple[str, dict]] = {}

    def new_resource(self, args):
        inputs = dict(args.inputs)
        self.resources[args.name] = (args.typ, inputs)
        outputs = dict(inputs)
        if args.typ == "aws:sqs/queue:Queue":
            outputs["arn"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{inputs['name']}"
            outputs["url"] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{inputs['name']}"
            return [outputs["url"], outputs]
        if args.typ == "aws:sns/topic:Topic":
            outputs["arn"] = f"arn:aws:sns:{REGION}:{ACCOUNT}:{inputs['name']}"
            return [outputs["arn"], outputs]
        return [f"{args.name}-id", outputs]

    def call(self, args):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "id": ACCOUNT, "userId": "ci"}
        return {}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pulumi-aws")
    result = CliRunner().invoke(main, ["export", "pulumi", str(EXAMPLE), "--target", "notifications", "-o", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    return out


@pytest.fixture(scope="module")
def registered(exported) -> dict[str, tuple[str, dict]]:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="notifications", stack="test", preview=False)

    @pulumi.runtime.test
    def run_program():
        namespace = runpy.run_path(str(exported / "__main__.py"), run_name="__main__")
        resources = [v for v in namespace.values() if isinstance(v, pulumi.CustomResource)]
        return pulumi.Output.all(*[r.urn for r in resources])

    run_program()
    return mocks.resources


def inputs(registered, name: str, typ: str) -> dict:
    assert name in registered, sorted(registered)
    actual_type, values = registered[name]
    assert actual_type == typ
    return values


def test_export_writes_a_standalone_pulumi_project(exported):
    assert sorted(p.name for p in exported.iterdir()) == ["Pulumi.yaml", "__main__.py", "requirements.txt"]
    project = (exported / "Pulumi.yaml").read_text()
    assert "name: notifications\n" in project
    assert "runtime:\n  name: python\n" in project
    assert f"aws:region:\n    value: {REGION}\n" in project
    assert (exported / "requirements.txt").read_text() == "pulumi>=3.100,<4\npulumi-aws>=7,<8\n"


def test_every_desired_resource_is_declared_once_with_its_pulumi_type(registered):
    from brokerform.compile import compile_manifest
    from brokerform.manifest.loader import load_manifest

    desired = compile_manifest(load_manifest(EXAMPLE), ["notifications"])["notifications"]
    expected_types = {"queue": "aws:sqs/queue:Queue", "queue_policy": "aws:sqs/queuePolicy:QueuePolicy",
                      "topic": "aws:sns/topic:Topic", "subscription": "aws:sns/topicSubscription:TopicSubscription"}
    declared = {name: typ for name, (typ, _) in registered.items() if not typ.startswith("pulumi:")}
    assert len(declared) == len(desired.resources) == 29
    assert sorted(declared.values()) == sorted(expected_types[a.kind] for a in desired.resources)


def test_queues_carry_the_channel_settings_and_redrive(registered):
    sms = inputs(registered, f"queue-{P}notification-requests-sms", "aws:sqs/queue:Queue")
    assert sms["name"] == f"{P}notification-requests-sms"
    assert int(sms["visibilityTimeoutSeconds"]) == 120
    assert int(sms["messageRetentionSeconds"]) == 4 * 86400
    assert json.loads(sms["redrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{P}notification-requests-sms-dlq", "maxReceiveCount": 5}
    assert sms["tags"] == {"managed-by": "brokerform", "stack": "notifications"}
    assert "fifoQueue" not in sms

    dlq = inputs(registered, f"queue-{P}notification-requests-sms-dlq", "aws:sqs/queue:Queue")
    assert int(dlq["messageRetentionSeconds"]) == 14 * 86400
    assert json.loads(dlq["redriveAllowPolicy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:{P}notification-requests-sms"]}


def test_fifo_channel_becomes_fifo_topic_and_queues_with_content_dedup(registered):
    topic = inputs(registered, f"topic-{P}billing-events", "aws:sns/topic:Topic")
    assert (topic["name"], topic["fifoTopic"], topic["contentBasedDeduplication"]) == (
        f"{P}billing-events.fifo", True, True)
    ledger = inputs(registered, f"queue-{P}billing-events-ledger", "aws:sqs/queue:Queue")
    assert (ledger["name"], ledger["fifoQueue"], ledger["contentBasedDeduplication"]) == (
        f"{P}billing-events-ledger.fifo", True, True)
    assert int(ledger["visibilityTimeoutSeconds"]) == 60
    assert json.loads(ledger["redrivePolicy"])["maxReceiveCount"] == 3


def test_native_queue_keeps_every_declared_attribute(registered):
    audit = inputs(registered, f"queue-{P}audit", "aws:sqs/queue:Queue")
    assert int(audit["visibilityTimeoutSeconds"]) == 300
    assert int(audit["messageRetentionSeconds"]) == 14 * 86400
    assert int(audit["receiveWaitTimeSeconds"]) == 20
    assert int(audit["maxMessageSize"]) == 256 * 1024
    assert audit["sqsManagedSseEnabled"] is True
    assert json.loads(audit["redrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{P}audit-dlq", "maxReceiveCount": 10}


def test_queue_policy_lets_only_the_channel_topic_send(registered):
    policy = inputs(registered, f"queue_policy-{P}notification-requests-email", "aws:sqs/queuePolicy:QueuePolicy")
    assert policy["queueUrl"] == f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{P}notification-requests-email"
    statement = json.loads(policy["policy"])["Statement"]
    assert statement == [{
        "Sid": "AllowSnsTopicsToSend",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:sendmessage",
        "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{P}notification-requests-email",
        "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:{P}notification-requests"}},
    }]


def test_native_policy_gets_the_deploying_account_and_region(registered):
    policy = inputs(registered, f"queue_policy-{P}audit", "aws:sqs/queuePolicy:QueuePolicy")
    condition = json.loads(policy["policy"])["Statement"][0]["Condition"]
    assert condition == {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:{P}account-events"}}


def test_subscriptions_carry_filters_and_raw_delivery(registered):
    sms = inputs(registered, f"subscription-{P}notification-requests-to-sqs-{P}notification-requests-sms",
                 "aws:sns/topicSubscription:TopicSubscription")
    assert sms["topic"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:{P}notification-requests"
    assert sms["endpoint"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{P}notification-requests-sms"
    assert sms["protocol"] == "sqs"
    assert json.loads(sms["filterPolicy"]) == {"channel": ["sms"], "priority": [{"numeric": [">=", 5]}]}
    assert sms["filterPolicyScope"] == "MessageAttributes"
    assert sms["rawMessageDelivery"] is True
    push = inputs(registered, f"subscription-{P}notification-requests-to-sqs-{P}notification-requests-push",
                  "aws:sns/topicSubscription:TopicSubscription")
    assert json.loads(push["filterPolicy"]) == {"channel": ["push"]}
    ledger = inputs(registered, f"subscription-{P}billing-events-to-sqs-{P}billing-events-ledger",
                    "aws:sns/topicSubscription:TopicSubscription")
    assert "filterPolicy" not in ledger
    assert ledger["topic"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:{P}billing-events.fifo"


def test_export_of_a_non_aws_target_is_refused_with_a_message(tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text("brokerform: 1\ntargets:\n  k:\n    type: kafka\n    bootstrap_servers: 127.0.0.1:9092\n")
    result = CliRunner().invoke(main, ["export", "pulumi", str(manifest), "--target", "k", "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "error: Pulumi export supports aws" in result.stderr
    assert not (tmp_path / "o").exists()
