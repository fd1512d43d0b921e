"""Round-trip real-world SQS/SNS declarations from ../shared/corpus/aws/ through import and plan.

Each CloudFormation template is deployed into moto with boto3 by a tiny CloudFormation
interpreter below (YAML short tags, Ref/GetAtt/Sub/If/Equals/Not, parameters, conditions;
only SNS/SQS resource types — Lambda, S3, DynamoDB are skipped); the Terraform file is
translated by hand. Every physical name gets the test's unique prefix. Then
`brokerform import aws --name-prefix` must write a manifest that plans with no changes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from test_aws_provider import REGION, aws_env, boto, moto_endpoint, plan_exit, prefix, run  # noqa: F401

pytestmark = pytest.mark.moto
ACCOUNT = "123456789012"


# -- a minimal CloudFormation reader ----------------------------------------------------------

class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (`!Ref X` -> {"Ref": "X"}, `!GetAtt A.B` -> {"Fn::GetAtt": [A, B]})."""


def _short_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _short_tag)


def load_template(path: Path) -> dict[str, Any]:
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=CfnLoader)  # noqa: S506


class NoValue(Exception):
    """AWS::NoValue: the property is left out."""


class Stack:
    """Deploys the SNS/SQS resources of one template into moto, names prefixed."""

    SUPPORTED = ("AWS::SNS::Topic", "AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "AWS::SNS::Subscription")

    def __init__(self, template: dict[str, Any], prefix: str, boto, parameters: dict[str, str] | None = None):
        self.template, self.prefix, self.boto = template, prefix, boto
        self.parameters = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
        self.parameters.update(parameters or {})
        self.physical: dict[str, dict[str, str]] = {}

    # intrinsics
    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            out = []
            for item in value:
                try:
                    out.append(self.resolve(item))
                except NoValue:
                    pass
            return out
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                if arg == "AWS::NoValue":
                    raise NoValue
                if arg in self.parameters:
                    return self.parameters[arg]
                return self.physical[arg]["ref"]
            if key == "Fn::GetAtt":
                return self.physical[arg[0]][arg[1]]
            if key == "Fn::Sub":
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1)), arg)
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(name) else no)
            if key == "Fn::Equals":
                return self.resolve(arg[0]) == self.resolve(arg[1])
            if key == "Fn::Not":
                return not self.resolve(arg[0])
        out = {}
        for key, item in value.items():
            try:
                out[key] = self.resolve(item)
            except NoValue:
                pass
        return out

    def _sub(self, expression: str) -> str:
        if "." in expression:
            logical, attribute = expression.split(".", 1)
            return self.physical[logical][attribute]
        return self.resolve({"Ref": expression})

    def resources(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for logical, resource in self.template["Resources"].items():
            if resource["Type"] != kind:
                continue
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            out.append((logical, resource.get("Properties", {})))
        return out

    # deployment
    def deploy(self) -> None:
        for logical, props in self.resources("AWS::SNS::Topic"):
            self._topic(logical, props)
        queues = self.resources("AWS::SQS::Queue")
        for logical, props in queues:  # every queue first, so redrive targets exist
            self._queue(logical, props)
        for logical, props in queues:
            if "RedrivePolicy" in props:
                try:
                    redrive = self.resolve(props["RedrivePolicy"])
                except NoValue:
                    continue
                self.boto.sqs.set_queue_attributes(QueueUrl=self.physical[logical]["ref"],
                                                   Attributes={"RedrivePolicy": json.dumps(redrive)})
        for _, props in self.resources("AWS::SQS::QueuePolicy"):
            document = json.dumps(self.resolve(props["PolicyDocument"]))
            for url in self.resolve(props["Queues"]):
                self.boto.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": document})
        for _, props in self.resources("AWS::SNS::Subscription"):
            self._subscription(self.resolve(props))

    def _name(self, logical: str, given: Any) -> str:
        return self.prefix + (self.resolve(given) if given else logical)

    def _topic(self, logical: str, props: dict[str, Any]) -> None:
        name = self._name(logical, props.get("TopicName"))
        attributes = {}
        if props.get("FifoTopic"):
            attributes["FifoTopic"] = "true"
        if "ContentBasedDeduplication" in props:
            attributes["ContentBasedDeduplication"] = str(props["ContentBasedDeduplication"]).lower()
        topic_arn = self.boto.sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self.physical[logical] = {"ref": topic_arn, "TopicArn": topic_arn, "TopicName": name}

    QUEUE_ATTRIBUTES = ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
                        "VisibilityTimeout", "KmsMasterKeyId", "FifoQueue", "ContentBasedDeduplication",
                        "DeduplicationScope", "FifoThroughputLimit")

    def _queue(self, logical: str, props: dict[str, Any]) -> None:
        name = self._name(logical, props.get("QueueName"))
        attributes = {}
        for key in self.QUEUE_ATTRIBUTES:
            if key in props:
                try:
                    value = self.resolve(props[key])
                except NoValue:
                    continue
                attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
        url = self.boto.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        self.physical[logical] = {"ref": url, "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}", "QueueName": name}

    def _subscription(self, props: dict[str, Any]) -> None:
        attributes = {}
        for key in ("FilterPolicy", "RedrivePolicy", "FilterPolicyScope"):
            if key in props:
                value = props[key]
                attributes[key] = value if isinstance(value, str) else json.dumps(value)
        if "RawMessageDelivery" in props:
            attributes["RawMessageDelivery"] = str(props["RawMessageDelivery"]).lower()
        self.boto.sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"],
                                Attributes=attributes, ReturnSubscriptionArn=True)


def import_and_plan(aws_env: str, prefix: str, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "imported.yaml"
    result = run("import", "aws", "--region", REGION, "--endpoint-url", aws_env, "--name-prefix", prefix,
                 "-o", str(out))
    assert result.exit_code == 0, result.output + result.stderr
    code, output = plan_exit(out)
    assert code == 0, output + out.read_text()
    return yaml.safe_load(out.read_text())["targets"]["aws"]


# -- the corpus ------------------------------------------------------------------------------------

def test_cfn_eda_sns_fifo_fan_out_round_trips(aws_env, prefix, boto, tmp_path, corpus):
    Stack(load_template(corpus / "aws" / "aws-samples-eda-sns-fifo.template.yaml"), prefix, boto).deploy()
    target = import_and_plan(aws_env, prefix, tmp_path)
    assert sorted(target["topics"]) == [f"{prefix}JobEvents.fifo"]
    assert target["topics"][f"{prefix}JobEvents.fifo"] == {"fifo": True}
    assert sorted(target["queues"]) == sorted(prefix + n for n in [
        "AnalyticsJobEvents.fifo", "AnalyticsJobEventsDLQ.fifo", "AnalyticsSubscriptionDLQ.fifo",
        "InventoryJobEvents.fifo", "InventoryJobEventsDLQ.fifo", "InventorySubscriptionDLQ.fifo"])
    assert target["queues"][f"{prefix}InventoryJobEvents.fifo"]["redrive"] == {
        "dead_letter_queue": f"{prefix}InventoryJobEventsDLQ.fifo", "max_receive_count": 3}
    inventory = target["subscriptions"][f"{prefix}JobEvents-to-{prefix}InventoryJobEvents"]
    assert inventory == {
        "topic": f"{prefix}JobEvents.fifo",
        "endpoint": f"{prefix}InventoryJobEvents.fifo",
        "filter_policy": {"eventType": ["JobCreated", "JobDeleted"]},
        "raw_delivery": True,
        "dead_letter_queue": f"{prefix}InventorySubscriptionDLQ.fifo",
    }
    policy = target["queues"][f"{prefix}AnalyticsSubscriptionDLQ.fifo"]["policy"]
    assert policy["Statement"][0]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": f"arn:aws:sns:{REGION}:${{aws:account_id}}:{prefix}JobEvents.fifo"}}


def test_cfn_sns_sqs_fifo_high_throughput_round_trips(aws_env, prefix, boto, tmp_path, corpus):
    Stack(load_template(corpus / "aws" / "raulnq-sns-sqs-fifo-highthroughput.template.yml"), prefix, boto).deploy()
    target = import_and_plan(aws_env, prefix, tmp_path)
    assert target["queues"][f"{prefix}MyFifoQueue.fifo"] == {
        "fifo": True,
        "deduplication_scope": "messageGroup",
        "fifo_throughput_limit": "perMessageGroupId",
        "policy": {
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "sqs:sendmessage",
                "Resource": f"arn:aws:sqs:{REGION}:${{aws:account_id}}:{prefix}MyFifoQueue.fifo",
                "Condition": {"ArnEquals": {
                    "aws:SourceArn": f"arn:aws:sns:{REGION}:${{aws:account_id}}:{prefix}MyFifoTopic.fifo"}},
            }],
        },
    }


@pytest.mark.parametrize("use_dlq", ["true", "false"])
def test_cfn_standard_queue_with_conditional_dlq_round_trips(aws_env, prefix, boto, tmp_path, corpus, use_dlq):
    template = load_template(corpus / "aws" / "cfn-templates-sqs-standard-queue-conditional-dlq.json")
    Stack(template, prefix, boto, {"UsedeadletterQueue": use_dlq}).deploy()
    target = import_and_plan(aws_env, prefix, tmp_path)
    queue = target["queues"][f"{prefix}SQSQueue"]
    assert (queue["delay"], queue["visibility_timeout"], queue["sse"]) == ("5s", "5s", {"kms_key": "alias/aws/sqs"})
    assert "max_message_size" in queue and queue["max_message_size"] == "256KiB"
    if use_dlq == "true":
        assert queue["redrive"] == {"dead_letter_queue": f"{prefix}MyDeadLetterQueue", "max_receive_count": 5}
        assert target["queues"][f"{prefix}MyDeadLetterQueue"]["retention"] == "2w"
    else:
        assert "redrive" not in queue and sorted(target["queues"]) == [f"{prefix}SQSQueue"]


def test_terraform_moj_allocations_queue_round_trips(aws_env, prefix, boto, tmp_path, corpus):
    """moj-hmpps-allocations-sqs-sns.tf, translated by hand (its modules are not in the corpus).

    The values come from the file; the test checks they are still there so a corpus change is noticed.
    """
    tf = (corpus / "aws" / "moj-hmpps-allocations-sqs-sns.tf").read_text()
    for fact in ('sqs_name                  = "hmpps_allocation_required_queue"', "message_retention_seconds = 1209600",
                 "delay_seconds             = 2", '"maxReceiveCount": 3', 'sqs_name               = "hmpps_allocation_required_dlq"',
                 'filter_policy = "{\\"eventType\\":[\\"ALLOCATION_REQUIRED\\"]}"', 'encrypt_sqs_kms           = "true"'):
        assert fact in tf, fact
    topic_arn = boto.sns.create_topic(Name=prefix + "hmpps-domain-events")["TopicArn"]  # module.hmpps-domain-events
    dlq_url = boto.sqs.create_queue(QueueName=prefix + "hmpps_allocation_required_dlq",
                                    Attributes={"KmsMasterKeyId": "alias/hmpps-allocations"})["QueueUrl"]
    dlq_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{prefix}hmpps_allocation_required_dlq"
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{prefix}hmpps_allocation_required_queue"
    boto.sqs.create_queue(QueueName=prefix + "hmpps_allocation_required_queue", Attributes={
        "MessageRetentionPeriod": "1209600", "DelaySeconds": "2", "KmsMasterKeyId": "alias/hmpps-allocations",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
        "Policy": json.dumps({
            "Version": "2012-10-17", "Id": f"{queue_arn}/SQSDefaultPolicy",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Resource": queue_arn,
                           "Action": "SQS:SendMessage", "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}}]}),
    })
    boto.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                       Attributes={"FilterPolicy": json.dumps({"eventType": ["ALLOCATION_REQUIRED"]})})
    assert dlq_url
    target = import_and_plan(aws_env, prefix, tmp_path)
    queue = target["queues"][f"{prefix}hmpps_allocation_required_queue"]
    assert (queue["retention"], queue["delay"], queue["sse"]) == ("2w", "2s", {"kms_key": "alias/hmpps-allocations"})
    assert queue["policy"]["Id"] == f"arn:aws:sqs:{REGION}:${{aws:account_id}}:{prefix}hmpps_allocation_required_queue/SQSDefaultPolicy"
    subscription = target["subscriptions"][f"{prefix}hmpps-domain-events-to-{prefix}hmpps_allocation_required_queue"]
    assert subscription == {"topic": f"{prefix}hmpps-domain-events",
                            "endpoint": f"{prefix}hmpps_allocation_required_queue",
                            "filter_policy": {"eventType": ["ALLOCATION_REQUIRED"]}}
