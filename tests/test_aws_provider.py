"""The AWS provider against a real moto server: apply, re-plan, import, and message behaviour.

Isolation: the shared moto of `scripts/services` is reset by other engineers' tests at any
time, so these tests start their own moto server (same `python -m moto.server` that
scripts/services runs) on a free 127.0.0.1 port for the session, and every test still uses
its own name prefix. Other AWS test modules import `moto_endpoint`/`aws_env` from here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from brokerform.cli import main
from brokerform.errors import ManifestError, ProviderError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "aws-notifications"
REGION = "us-east-1"

pytestmark = pytest.mark.moto


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    """A private moto server for this test session (stopped at the end)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"moto server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def aws_env(moto_endpoint, monkeypatch, tmp_path):
    """AWS_* variables pointing at the private moto; credentials come from the environment, as in real use."""
    monkeypatch.setenv("BROKERFORM_AUDIT_LOG", str(tmp_path / "audit.jsonl"))  # not into examples/
    for key, value in {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                       "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_endpoint


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}-"


@pytest.fixture
def boto(aws_env):
    import boto3

    class Clients:
        sqs = boto3.client("sqs", endpoint_url=aws_env, region_name=REGION)
        sns = boto3.client("sns", endpoint_url=aws_env, region_name=REGION)

    return Clients


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    return result


def apply_ok(path: Path | str, *extra: str) -> None:
    result = run("apply", str(path), "--auto-approve", *extra)
    assert result.exit_code == 0, result.output + result.stderr


def plan_exit(path: Path | str, *extra: str) -> tuple[int, str]:
    result = run("plan", str(path), "--detailed-exitcode", *extra)
    return result.exit_code, result.output + result.stderr


def write_manifest(tmp_path: Path, body: str, name: str = "manifest.yaml") -> Path:
    path = tmp_path / name
    path.write_text("brokerform: 1\n" + body)
    return path


def target_block(prefix: str) -> str:
    return f"""
targets:
  aws:
    type: aws
    region: {REGION}
    endpoint_url: ${{env:AWS_ENDPOINT_URL:-http://127.0.0.1:9}}
    scope:
      name_prefix: {prefix}
      tags: {{managed-by: brokerform}}
"""


def queue_url(boto, name: str) -> str:
    return boto.sqs.get_queue_url(QueueName=name)["QueueUrl"]


def receive(boto, name: str, **kwargs) -> list[dict]:
    return boto.sqs.receive_message(QueueUrl=queue_url(boto, name), MaxNumberOfMessages=10,
                                    MessageAttributeNames=["All"], **kwargs).get("Messages", [])


# -- the example ----------------------------------------------------------------------------

def test_example_applies_and_replans_with_no_changes(aws_env, prefix, boto):
    apply_ok(EXAMPLE, "--var", f"prefix={prefix}")
    code, output = plan_exit(EXAMPLE, "--var", f"prefix={prefix}")
    assert code == 0, output
    names = sorted(u.rsplit("/", 1)[-1] for u in boto.sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"])
    assert names == sorted(prefix + n for n in [
        "audit", "audit-dlq",
        "billing-events-invoices-dlq.fifo", "billing-events-invoices.fifo",
        "billing-events-ledger-dlq.fifo", "billing-events-ledger.fifo",
        "notification-requests-email", "notification-requests-email-dlq",
        "notification-requests-push", "notification-requests-push-dlq",
        "notification-requests-sms", "notification-requests-sms-dlq",
        "notification-retries", "notification-retries-dlq",
    ])
    attributes = boto.sqs.get_queue_attributes(QueueUrl=queue_url(boto, prefix + "notification-requests-sms"),
                                               AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "120"
    assert attributes["MessageRetentionPeriod"] == str(4 * 86400)
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:123456789012:{prefix}notification-requests-sms-dlq",
        "maxReceiveCount": 5}
    policy = json.loads(attributes["Policy"])
    assert policy["Statement"][0]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": f"arn:aws:sns:{REGION}:123456789012:{prefix}notification-requests"}}
    fifo = boto.sqs.get_queue_attributes(QueueUrl=queue_url(boto, prefix + "billing-events-ledger.fifo"),
                                         AttributeNames=["All"])["Attributes"]
    assert (fifo["FifoQueue"], fifo["ContentBasedDeduplication"]) == ("true", "true")


def test_a_second_apply_of_the_example_changes_nothing(aws_env, prefix):
    apply_ok(EXAMPLE, "--var", f"prefix={prefix}")
    result = run("apply", str(EXAMPLE), "--auto-approve", "--var", f"prefix={prefix}")
    assert result.exit_code == 0
    assert "Nothing to do" in result.output


def test_drift_is_detected_and_an_update_puts_it_back(aws_env, prefix, boto):
    apply_ok(EXAMPLE, "--var", f"prefix={prefix}")
    url = queue_url(boto, prefix + "audit")
    boto.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "7", "DelaySeconds": "9"})
    boto.sqs.tag_queue(QueueUrl=url, Tags={"stray": "tag"})
    code, output = plan_exit(EXAMPLE, "--var", f"prefix={prefix}")
    assert code == 2, output
    assert "visibility_timeout" in output and "delay" in output and "tags.stray" in output
    apply_ok(EXAMPLE, "--var", f"prefix={prefix}")
    attributes = boto.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attributes["VisibilityTimeout"], attributes["DelaySeconds"]) == ("300", "0")
    assert "stray" not in boto.sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
    assert plan_exit(EXAMPLE, "--var", f"prefix={prefix}")[0] == 0


def test_resources_without_the_scope_tags_are_not_managed(aws_env, prefix, boto, tmp_path):
    boto.sqs.create_queue(QueueName=prefix + "foreign", tags={"managed-by": "someone-else"})
    manifest = write_manifest(tmp_path, target_block(prefix) + f"    queues:\n      {prefix}mine: {{}}\n")
    apply_ok(manifest, "--prune")
    assert queue_url(boto, prefix + "foreign")  # --prune did not touch it: outside the scope
    assert plan_exit(manifest)[0] == 0



def test_an_existing_queue_without_the_scope_tags_is_a_blocked_create_not_a_silent_adoption(
        aws_env, prefix, boto, tmp_path):
    boto.sqs.create_queue(QueueName=prefix + "orders", Attributes={"VisibilityTimeout": "30"})
    boto.sns.create_topic(Name=prefix + "events", Tags=[{"Key": "managed-by", "Value": "someone-else"}])
    manifest = write_manifest(tmp_path, target_block(prefix) + f"""    queues:
      {prefix}orders: {{}}
    topics:
      {prefix}events: {{}}
""")
    plan = json.loads(run("plan", str(manifest), "--output", "json").output)
    blocked = {c["address"]["name"]: c["blocked_reason"] for c in plan["targets"][0]["changes"]
               if c["action"] == "blocked"}
    assert blocked == {
        f"{prefix}orders": (
            f"queue '{prefix}orders' already exists but is not owned by this target (missing scope tags: "
            f"managed-by=brokerform); to adopt it, add the tags (aws sqs tag-queue --queue-url <url of {prefix}orders> "
            "--tags managed-by=brokerform) and plan again, or choose another name"),
        f"{prefix}events": (
            f"topic '{prefix}events' already exists but is not owned by this target (missing scope tags: "
            f"managed-by=brokerform); to adopt it, add the tags (aws sns tag-resource --resource-arn "
            f"arn:aws:sns:{REGION}:123456789012:{prefix}events --tags Key=managed-by,Value=brokerform) and plan again, "
            "or choose another name"),
    }
    result = run("apply", str(manifest), "--auto-approve")
    assert result.exit_code != 0
    assert boto.sqs.list_queue_tags(QueueUrl=queue_url(boto, prefix + "orders")).get("Tags", {}) == {}

    boto.sqs.tag_queue(QueueUrl=queue_url(boto, prefix + "orders"), Tags={"managed-by": "brokerform"})
    boto.sns.tag_resource(ResourceArn=f"arn:aws:sns:{REGION}:123456789012:{prefix}events",
                          Tags=[{"Key": "managed-by", "Value": "brokerform"}])
    assert plan_exit(manifest)[0] == 0  # adopted: in sync, nothing to create


# -- behaviour ------------------------------------------------------------------------------

def test_a_message_received_max_receive_count_times_moves_to_the_dlq(aws_env, prefix, boto, tmp_path):
    manifest = write_manifest(tmp_path, target_block(prefix) + """
channels:
  jobs:
    target: aws
    pattern: point-to-point
    ack_timeout: 0s
    dead_letter: {max_deliveries: 2}
""")
    apply_ok(manifest)
    boto.sqs.send_message(QueueUrl=queue_url(boto, prefix + "jobs"), MessageBody="poison")
    assert len(receive(boto, prefix + "jobs")) == 1
    assert len(receive(boto, prefix + "jobs")) == 1
    assert receive(boto, prefix + "jobs") == []  # the third receive finds it moved
    moved = receive(boto, prefix + "jobs-dlq")
    assert [m["Body"] for m in moved] == ["poison"]


def test_an_sns_publish_reaches_only_the_subscription_whose_filter_matches(aws_env, prefix, boto):
    apply_ok(EXAMPLE, "--var", f"prefix={prefix}")
    topic = f"arn:aws:sns:{REGION}:123456789012:{prefix}notification-requests"
    boto.sns.publish(TopicArn=topic, Message="your code is 1234", MessageAttributes={
        "channel": {"DataType": "String", "StringValue": "sms"},
        "priority": {"DataType": "Number", "StringValue": "7"}})
    boto.sns.publish(TopicArn=topic, Message="low priority sms", MessageAttributes={
        "channel": {"DataType": "String", "StringValue": "sms"},
        "priority": {"DataType": "Number", "StringValue": "1"}})
    boto.sns.publish(TopicArn=topic, Message="push it", MessageAttributes={
        "channel": {"DataType": "String", "StringValue": "push"}})
    assert [m["Body"] for m in receive(boto, prefix + "notification-requests-sms")] == ["your code is 1234"]
    assert [m["Body"] for m in receive(boto, prefix + "notification-requests-push")] == ["push it"]
    assert receive(boto, prefix + "notification-requests-email") == []


def test_fifo_ordering_holds_per_message_group(aws_env, prefix, boto):
    apply_ok(EXAMPLE, "--var", f"prefix={prefix}")
    topic = f"arn:aws:sns:{REGION}:123456789012:{prefix}billing-events.fifo"
    sent = {"acct-1": [], "acct-2": []}
    for i in range(6):
        group = "acct-1" if i % 2 == 0 else "acct-2"
        body = f"{group}-event-{i}"
        boto.sns.publish(TopicArn=topic, Message=body, MessageGroupId=group)
        sent[group].append(body)
    received: dict[str, list[str]] = {"acct-1": [], "acct-2": []}
    url = queue_url(boto, prefix + "billing-events-ledger.fifo")
    for _ in range(10):
        messages = boto.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                            MessageSystemAttributeNames=["MessageGroupId"]).get("Messages", [])
        if not messages:
            break
        for message in messages:
            received[message["Attributes"]["MessageGroupId"]].append(message["Body"])
            boto.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert received == sent


def test_a_fifo_change_is_a_replace_refused_without_allow_replace(aws_env, prefix, boto, tmp_path):
    body = target_block(prefix) + """
channels:
  orders:
    target: aws
    pattern: pubsub
    ORDERING
    subscriptions:
      billing: {}
"""
    manifest = write_manifest(tmp_path, body.replace("ORDERING", ""))
    apply_ok(manifest)
    write_manifest(tmp_path, body.replace("ORDERING", "ordering: {mode: fifo}"))
    result = run("apply", str(manifest), "--auto-approve")
    assert result.exit_code == 1
    assert "--allow-replace" in result.output
    assert queue_url(boto, prefix + "orders-billing")  # nothing was applied

    plan = json.loads(run("plan", str(manifest), "--output", "json").output)
    actions = {c["id"]: (c["action"], c["reason"]) for c in plan["targets"][0]["changes"]}
    assert actions == {
        f"aws.topic['{prefix}orders']": ("replace", "immutable property"),
        f"aws.queue['{prefix}orders-billing']": ("replace", "immutable property"),
        f"aws.queue_policy['{prefix}orders-billing']": ("replace", "immutable property"),
        f"aws.subscription['{prefix}orders -> sqs:{prefix}orders-billing']": ("replace", "immutable property"),
    }

    apply_ok(manifest, "--allow-replace")
    assert plan_exit(manifest)[0] == 0
    subscriptions = boto.sns.list_subscriptions_by_topic(
        TopicArn=f"arn:aws:sns:{REGION}:123456789012:{prefix}orders.fifo")["Subscriptions"]
    assert [s["Endpoint"] for s in subscriptions] == [f"arn:aws:sqs:{REGION}:123456789012:{prefix}orders-billing.fifo"]
    assert boto.sqs.list_queues(QueueNamePrefix=prefix + "orders-billing")["QueueUrls"] == [
        f"{aws_env}/123456789012/{prefix}orders-billing.fifo"]


def test_replacing_a_queue_that_holds_messages_needs_allow_data_loss(aws_env, prefix, boto, tmp_path):
    body = target_block(prefix) + "    queues:\n      NAME: {fifo: FIFO}\n"
    manifest = write_manifest(tmp_path, body.replace("NAME", prefix + "work").replace("FIFO", "false"))
    apply_ok(manifest)
    boto.sqs.send_message(QueueUrl=queue_url(boto, prefix + "work"), MessageBody="precious")
    write_manifest(tmp_path, body.replace("NAME", prefix + "work.fifo").replace("FIFO", "true"))
    result = run("apply", str(manifest), "--auto-approve", "--allow-replace")
    assert result.exit_code == 1
    assert "would lose 1 message(s)" in result.output
    assert [m["Body"] for m in receive(boto, prefix + "work")] == ["precious"]


# -- import -----------------------------------------------------------------------------------

def test_import_round_trips_the_example(aws_env, prefix, tmp_path):
    apply_ok(EXAMPLE, "--var", f"prefix={prefix}")
    out = tmp_path / "imported.yaml"
    result = run("import", "aws", "--region", REGION, "--endpoint-url", aws_env, "--name-prefix", prefix,
                 "-o", str(out))
    assert result.exit_code == 0, result.output + result.stderr
    text = out.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert f"{prefix}billing-events.fifo:" in text
    assert "${aws:account_id}" in text and "123456789012" not in text
    code, output = plan_exit(out)
    assert code == 0, output


def test_import_refuses_an_unreachable_endpoint_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    result = run("import", "aws", "--region", REGION, "--endpoint-url", f"http://127.0.0.1:{_free_port()}",
                 "--account-id", "123456789012", "-o", str(tmp_path / "x.yaml"))
    assert result.exit_code == 1
    assert "cannot list queues" in result.stderr
    assert "Traceback" not in result.output + result.stderr


# -- plan-time validation (what moto does not check) ---------------------------------------------

@pytest.mark.parametrize("queue, message", [
    ("visibility_timeout: 13h", "visibility_timeout 46800 s is outside what SQS accepts (0..43200 s)"),
    ("retention: 30s", "retention 30 s is outside what SQS accepts (60..1209600 s)"),
    ("retention: 15d", "retention 1296000 s is outside what SQS accepts (60..1209600 s)"),
    ("delay: 16m", "delay 960 s is outside what SQS accepts (0..900 s)"),
    ("receive_wait_time: 21s", "receive_wait_time 21 s is outside what SQS accepts (0..20 s)"),
    ("max_message_size: 512B", "max_message_size 512 bytes is outside what SQS accepts (1024..1048576 bytes)"),
])
def test_out_of_range_queue_attributes_are_located_plan_time_errors(tmp_path, queue, message):
    manifest = write_manifest(tmp_path, target_block("p-") + f"    queues:\n      p-q:\n        {queue}\n")
    result = run("plan", str(manifest))
    assert result.exit_code == 1
    field = queue.split(":")[0]
    column = 8 + len(field) + 2 + 1  # the value after `        field: `
    assert f"{manifest}:13:{column}: targets.aws.queues.p-q.{field}: {message}" in result.stderr


def test_invalid_names_and_names_outside_the_prefix_are_errors(tmp_path):
    manifest = write_manifest(tmp_path, target_block("p-") + "    queues:\n      p-bad!name: {}\n      other: {}\n")
    result = run("plan", str(manifest))
    assert result.exit_code == 1
    assert f"{manifest}:12:7: targets.aws.queues.\"p-bad!name\": queue name 'p-bad!name': at most 80 characters" \
        in result.stderr
    assert "queue name 'other' is outside the target's scope: it must start with name_prefix 'p-'" in result.stderr


def test_a_short_reply_ttl_is_an_error_not_a_silent_change(tmp_path):
    manifest = write_manifest(tmp_path, target_block("p-") + """
channels:
  quote:
    target: aws
    pattern: request-reply
    reply: {ttl: 30s}
""")
    result = run("plan", str(manifest))
    assert result.exit_code == 1
    assert "channels.quote.reply.ttl: retention 30 s is outside what SQS accepts (60..1209600 s)" in result.stderr



def test_a_fifo_queue_on_a_standard_topic_is_a_located_validation_error(tmp_path):
    manifest = write_manifest(tmp_path, target_block("v-") + """    queues:
      v-in.fifo: {fifo: true}
      v-dlq.fifo: {fifo: true}
    topics:
      v-events: {}
    subscriptions:
      in: {topic: v-events, endpoint: v-in.fifo, dead_letter_queue: v-dlq.fifo}
""")
    result = run("validate", str(manifest))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        (f"{manifest}:17:39: targets.aws.subscriptions.in.endpoint: FIFO queue 'v-in.fifo' cannot subscribe to the "
         "standard topic 'v-events': make the topic FIFO or the queue standard"),
        (f"{manifest}:17:69: targets.aws.subscriptions.in.dead_letter_queue: the dead-letter queue of a subscription "
         "to a standard topic must be a standard queue, got 'v-dlq.fifo'"),
        "error: 2 problem(s) found",
    ]


def test_a_filter_policy_value_that_is_not_a_list_is_a_located_validation_error(tmp_path):
    manifest = write_manifest(tmp_path, target_block("v-") + """    queues:
      v-in: {}
    topics:
      v-events: {}
    subscriptions:
      in:
        topic: v-events
        endpoint: v-in
        filter_policy_scope: MessageBody
        filter_policy:
          b: x
          order: {total: [{numeric: [">", 10]}], region: eu}
""")
    result = run("validate", str(manifest))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        (f"{manifest}:21:14: targets.aws.subscriptions.in.filter_policy.b: a filter policy matches a list of values: "
         'write b: ["x"]'),
        (f"{manifest}:22:58: targets.aws.subscriptions.in.filter_policy.order.region: a filter policy matches a list "
         'of values: write region: ["eu"]'),
        "error: 2 problem(s) found",
    ]


# -- apply robustness ----------------------------------------------------------------------------

def test_a_recently_deleted_queue_name_is_a_transient_error_with_retry_after(aws_env):
    from botocore.stub import Stubber

    from brokerform.model.aws import AwsTarget
    from brokerform.providers.aws.provider import AwsProvider

    provider = AwsProvider("aws", AwsTarget(type="aws", region=REGION, endpoint_url=aws_env, account_id="123456789012"))
    stubber = Stubber(provider.client("sqs"))
    stubber.add_client_error("create_queue", service_error_code="AWS.SimpleQueueService.QueueDeletedRecently",
                             service_message="You must wait 60 seconds after deleting a queue")
    with stubber, pytest.raises(ProviderError) as raised:
        provider._call("sqs", "create_queue", "create queue q", QueueName="q")
    assert raised.value.transient is True
    assert raised.value.retry_after == 20.0
    assert "wait 60 seconds" in str(raised.value)


def test_the_executor_retries_a_recently_deleted_queue_until_it_can_be_created(aws_env, prefix, boto):
    from brokerform.apply.executor import Executor, RetryPolicy
    from brokerform.model.aws import AwsTarget
    from brokerform.plan.model import Action, Change, Reason, TargetPlan
    from brokerform.providers.aws.provider import AwsProvider
    from brokerform.resources import Address, Resource

    provider = AwsProvider("aws", AwsTarget(type="aws", region=REGION, endpoint_url=aws_env))
    real_call = provider._call
    refusals = []

    def deleted_recently_twice(service, operation, what, **kwargs):
        if operation == "create_queue" and len(refusals) < 2:
            refusals.append(what)
            raise ProviderError("QueueDeletedRecently", transient=True, retry_after=20.0)
        return real_call(service, operation, what, **kwargs)

    provider._call = deleted_recently_twice
    sleeps: list[float] = []
    address = Address("aws", "queue", "", prefix + "again")
    desired = Resource(address, {"name": prefix + "again", "fifo": False, "tags": {}})
    plan = TargetPlan("aws", "aws", [Change(address, Action.CREATE, Reason.NEW, desired=desired)])
    result = Executor(provider, retry=RetryPolicy(sleep=sleeps.append)).run(plan)
    assert result.ok, result.to_dict()
    assert sleeps == [20.0, 20.0]
    assert queue_url(boto, prefix + "again")


def test_reading_a_target_without_credentials_is_a_clear_error(monkeypatch, tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    from brokerform.model.aws import AwsTarget
    from brokerform.providers.aws.provider import AwsProvider

    provider = AwsProvider("aws", AwsTarget(type="aws", region=REGION, endpoint_url="http://127.0.0.1:9"))
    with pytest.raises(ProviderError, match="no AWS credentials"):
        provider.read()


def test_changing_and_removing_a_filter_updates_the_subscription_in_place(aws_env, prefix, boto, tmp_path):
    body = target_block(prefix) + """
channels:
  alerts:
    target: aws
    pattern: pubsub
    subscriptions:
      pager:
        FILTER
"""
    manifest = write_manifest(tmp_path, body.replace("FILTER", "filter: {attributes: {severity: [critical]}}"))
    apply_ok(manifest)
    topic_arn = f"arn:aws:sns:{REGION}:123456789012:{prefix}alerts"
    [subscription] = boto.sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]

    write_manifest(tmp_path, body.replace("FILTER", "filter: {attributes: {severity: [critical, major]}}"))
    plan = json.loads(run("plan", str(manifest), "--output", "json").output)
    changed = [c for c in plan["targets"][0]["changes"] if c["action"] != "noop"]
    assert [(c["id"], c["action"], [a["path"] for a in c["attributes"]]) for c in changed] == [
        (f"aws.subscription['{prefix}alerts -> sqs:{prefix}alerts-pager']", "update", ["filter_policy.severity"])]
    apply_ok(manifest)
    attributes = boto.sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"severity": ["critical", "major"]}
    assert plan_exit(manifest)[0] == 0

    write_manifest(tmp_path, body.replace("FILTER", "consumers: [pager-svc]"))
    apply_ok(manifest)
    [after] = boto.sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert after["SubscriptionArn"] == subscription["SubscriptionArn"]  # updated, not re-created
    assert plan_exit(manifest)[0] == 0
    boto.sns.publish(TopicArn=topic_arn, Message="anything goes now")
    assert [m["Body"] for m in receive(boto, prefix + "alerts-pager")] == ["anything goes now"]


def hook_manifest(tmp_path: Path, prefix: str, endpoint: str) -> Path:
    return write_manifest(tmp_path, target_block(prefix) + f"""    topics:
      {prefix}events: {{}}
    subscriptions:
      hook:
        topic: {prefix}events
        protocol: https
        endpoint: {endpoint}
""")


def test_a_referenced_endpoint_password_is_sent_resolved_and_compared_without_entering_the_plan(
        aws_env, prefix, boto, tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK_PW", "hooksecret123")
    manifest = hook_manifest(tmp_path, prefix, "https://user:${env:HOOK_PW}@example.com/hook")
    result = run("plan", str(manifest))
    assert "hooksecret123" not in result.output
    assert f"{prefix}events -> https:https://user@example.com/hook" in result.output
    apply_ok(manifest)
    topic_arn = f"arn:aws:sns:{REGION}:123456789012:{prefix}events"
    [sub] = boto.sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert sub["Endpoint"] == "https://user:hooksecret123@example.com/hook"
    assert plan_exit(manifest)[0] == 0

    monkeypatch.setenv("HOOK_PW", "rotated456")
    code, output = plan_exit(manifest)
    assert code == 2
    assert "rotated456" not in output and "hooksecret123" not in output


def test_an_endpoint_listed_with_its_password_masked_as_sns_does_is_in_sync_with_its_reference(
        aws_env, prefix, boto, tmp_path, monkeypatch):
    """Real SNS lists a basic-auth endpoint as https://user:****@host (moto echoes the password):
    without this, every plan would replace the subscription."""
    monkeypatch.setenv("HOOK_PW", "hooksecret123")
    manifest = hook_manifest(tmp_path, prefix, "https://user:${env:HOOK_PW}@example.com/hook")
    apply_ok(manifest)
    topic_arn = f"arn:aws:sns:{REGION}:123456789012:{prefix}events"
    [sub] = boto.sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    boto.sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    boto.sns.subscribe(TopicArn=topic_arn, Protocol="https", Endpoint="https://user:****@example.com/hook")
    code, output = plan_exit(manifest)
    assert code == 0, output


def test_an_endpoint_password_with_url_characters_is_sent_encoded_and_the_plan_settles(
        aws_env, prefix, boto, tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK_PW", "my@Secret/pw")
    manifest = hook_manifest(tmp_path, prefix, "https://user:${env:HOOK_PW}@example.com/hook")
    apply_ok(manifest)
    topic_arn = f"arn:aws:sns:{REGION}:123456789012:{prefix}events"
    [sub] = boto.sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert sub["Endpoint"] == "https://user:my%40Secret%2Fpw@example.com/hook"
    code, output = plan_exit(manifest)
    assert code == 0, output
    assert "Secret" not in output


def test_import_writes_an_endpoint_password_as_a_reference_and_never_into_the_key(
        aws_env, prefix, boto, tmp_path, monkeypatch):
    topic_arn = boto.sns.create_topic(Name=prefix + "events")["TopicArn"]
    boto.sns.subscribe(TopicArn=topic_arn, Protocol="https",
                       Endpoint="https://user:hooksecret123@example.com/hook?token=tok-secret-456")
    out = tmp_path / "imported.yaml"
    result = run("import", "aws", "--region", REGION, "--endpoint-url", aws_env, "--name-prefix", prefix,
                 "-o", str(out))
    assert result.exit_code == 0, result.output + result.stderr
    text = out.read_text()
    assert "hooksecret123" not in text
    variable = f"AWS_SUBSCRIPTION_{prefix.upper().rstrip('-')}_EVENTS_TO_EXAMPLE_COM_HOOK_PASSWORD"
    assert f"""      {prefix}events-to-example-com-hook:
        topic: {prefix}events
        protocol: https
        endpoint: https://user:${{env:{variable}}}@example.com/hook?token=tok-secret-456
""" in text
    monkeypatch.setenv(variable, "hooksecret123")
    code, output = plan_exit(out)
    assert code == 0, output
