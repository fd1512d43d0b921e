"""Export an AWS target as a standalone Pulumi Python project (Pulumi.yaml, __main__.py, requirements.txt).

The program declares the same resources `apply` would create, from the same compiled
desired state: `aws.sqs.Queue`, `aws.sqs.QueuePolicy`, `aws.sns.Topic` and
`aws.sns.TopicSubscription`. References between them go through Pulumi outputs
(`dlq.arn`, `queue.id`), so Pulumi orders creation itself; `${aws:account_id}` in policies
is filled from `aws.get_caller_identity_output()`.

Templates are looked up in the source checkout's top-level `templates/pulumi/aws/` (the
source of truth), then in the installed package data `brokerform/templates/pulumi/aws/`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from brokerform.compile import DesiredTarget
from brokerform.plan.planner import topological_order
from brokerform.providers.aws.compile import ACCOUNT_PLACEHOLDER, arn
from brokerform.resources import Address, Resource
from brokerform.export.identifiers import Identifiers
from brokerform.export.pulumi_project import Statement, project_name, render_project

PULUMI_TYPES = {"queue": "sqs.Queue", "queue_policy": "sqs.QueuePolicy", "topic": "sns.Topic",
                "subscription": "sns.TopicSubscription"}
QUEUE_INPUTS = {  # brokerform queue property -> pulumi_aws.sqs.Queue input
    "visibility_timeout": "visibility_timeout_seconds",
    "retention": "message_retention_seconds",
    "delay": "delay_seconds",
    "receive_wait_time": "receive_wait_time_seconds",
    "max_message_size": "max_message_size",
    "content_based_deduplication": "content_based_deduplication",
    "deduplication_scope": "deduplication_scope",
    "fifo_throughput_limit": "fifo_throughput_limit",
}


def _var_stem(text: str) -> str:
    return re.sub(r"\W+", "_", text.replace(" -> ", "_to_")).strip("_").lower()


def _logical_stem(text: str) -> str:
    return text.replace(" -> ", "-to-").replace(":", "-")


def python_literal(value: Any) -> str:
    """A Python expression for a JSON-like value (True/False/None, not true/false/null)."""
    return repr(value)


class _Program:
    def __init__(self, desired: DesiredTarget):
        self.desired = desired
        self.region = desired.target.region
        self.vars: dict[Address, str] = {}
        self.var_names = Identifiers(_var_stem)
        self.logical_names = Identifiers(_logical_stem, separator="-")

    def var_for(self, address: Address) -> str:
        if address not in self.vars:
            self.vars[address] = self.var_names(address, f"{address.kind}_{address.name}")
        return self.vars[address]

    def address(self, kind: str, name: str) -> Address:
        from brokerform.providers.aws.compile import base_name

        return Address(self.desired.name, kind, "", base_name(name))

    def local(self, kind: str, name: str) -> str | None:
        """The variable of a resource of this target, or None for an ARN/foreign name."""
        if name.startswith("arn:"):
            return None
        address = self.address(kind, name)
        return self.vars.get(address) if address in self.desired.resources else None

    def arn_expr(self, service: str, kind: str, name: str) -> str:
        var = self.local(kind, name)
        if var is not None:
            return f"{var}.arn"
        text = name if name.startswith("arn:") else arn(service, self.region, name)
        return f"with_account({python_literal(text)})" if ACCOUNT_PLACEHOLDER in text else python_literal(text)

    def document_expr(self, document: Any) -> str:
        text = json.dumps(document, sort_keys=True)
        if ACCOUNT_PLACEHOLDER in text:
            return f"with_account(json.dumps({python_literal(document)}))"
        return f"json.dumps({python_literal(document)})"

    def statements(self) -> list[Statement]:
        order = topological_order(self.desired.resources)
        for address in order:
            self.var_for(address)
        return [self.statement(self.desired.resources[a]) for a in order]

    def statement(self, resource: Resource) -> Statement:
        kind = resource.address.kind
        build = getattr(self, f"_{kind}")
        statement = Statement(self.vars[resource.address], PULUMI_TYPES[kind],
                              self.logical_names(resource.address, f"{kind}-{resource.address.name}"))
        build(resource.properties, statement)
        statement.depends_on = [self.vars[d] for d in resource.depends_on
                                if d in self.vars and self.vars[d] not in _referenced(statement)]
        statement.comment = f"brokerform: {resource.address}"
        return statement

    def _queue(self, props: dict[str, Any], st: Statement) -> None:
        st.args.append(("name", python_literal(props["name"])))
        if props.get("fifo"):
            st.args.append(("fifo_queue", "True"))
        for prop, key in QUEUE_INPUTS.items():
            if prop in props:
                st.args.append((key, python_literal(props[prop])))
        if "redrive" in props:
            redrive = props["redrive"]
            count = redrive["max_receive_count"]
            target = self.arn_expr("sqs", "queue", redrive["dead_letter_queue"])
            st.args.append(("redrive_policy", f"pulumi.Output.from_input({target}).apply(lambda arn: json.dumps("
                                              f"{{'deadLetterTargetArn': arn, 'maxReceiveCount': {count}}}))"))
        if "redrive_allow" in props:
            allow = props["redrive_allow"]
            document: dict[str, Any] = {"redrivePermission": allow["permission"]}
            if allow.get("source_queues"):
                # by computed ARN, not by reference: the sources depend on this DLQ (no cycle)
                document["sourceQueueArns"] = [q if q.startswith("arn:") else arn("sqs", self.region, q)
                                               for q in allow["source_queues"]]
            st.args.append(("redrive_allow_policy", self.document_expr(document)))
        sse = props.get("sse")
        if sse is not None:
            if "kms_key" in sse:
                st.args.append(("kms_master_key_id", python_literal(sse["kms_key"])))
                if "data_key_reuse" in sse:
                    st.args.append(("kms_data_key_reuse_period_seconds", python_literal(sse["data_key_reuse"])))
            else:
                st.args.append(("sqs_managed_sse_enabled", python_literal(bool(sse.get("managed")))))
        st.args.append(("tags", python_literal(props.get("tags") or {})))

    def _queue_policy(self, props: dict[str, Any], st: Statement) -> None:
        queue = self.local("queue", props["queue"])
        url = f"{queue}.id" if queue else python_literal(props["queue"])
        st.args.append(("queue_url", url))
        st.args.append(("policy", self.document_expr(props["policy"])))

    def _topic(self, props: dict[str, Any], st: Statement) -> None:
        st.args.append(("name", python_literal(props["name"])))
        if props.get("fifo"):
            st.args.append(("fifo_topic", "True"))
        if "content_based_deduplication" in props:
            st.args.append(("content_based_deduplication", python_literal(props["content_based_deduplication"])))
        if "kms_key" in props:
            st.args.append(("kms_master_key_id", python_literal(props["kms_key"])))
        if "policy" in props:
            st.args.append(("policy", self.document_expr(props["policy"])))
        st.args.append(("tags", python_literal(props.get("tags") or {})))

    def _subscription(self, props: dict[str, Any], st: Statement) -> None:
        st.args.append(("topic", self.arn_expr("sns", "topic", props["topic"])))
        st.args.append(("protocol", python_literal(props["protocol"])))
        if props["protocol"] == "sqs":
            st.args.append(("endpoint", self.arn_expr("sqs", "queue", props["endpoint"])))
        else:
            st.args.append(("endpoint", python_literal(props["endpoint"])))
        if "filter_policy" in props:
            st.args.append(("filter_policy", self.document_expr(props["filter_policy"])))
            st.args.append(("filter_policy_scope", python_literal(props.get("filter_policy_scope", "MessageAttributes"))))
        if "raw_delivery" in props:
            st.args.append(("raw_message_delivery", python_literal(props["raw_delivery"])))
        if "dead_letter_queue" in props:
            target = self.arn_expr("sqs", "queue", props["dead_letter_queue"])
            st.args.append(("redrive_policy", f"pulumi.Output.from_input({target}).apply(lambda arn: json.dumps("
                                              f"{{'deadLetterTargetArn': arn}}))"))


def _referenced(statement: Statement) -> set[str]:
    """Variables an argument already refers to (Pulumi orders those itself)."""
    names: set[str] = set()
    for _, expr in statement.args:
        names.update(re.findall(r"\b([a-z_][a-z0-9_]*)\.(?:arn|id)\b", expr))
    return names


def export_program(loaded, desired: DesiredTarget, out_dir: Path) -> list[Path]:
    """Render the project into out_dir; returns the files written."""
    target = desired.target
    statements = _Program(desired).statements()
    context = {
        "project": project_name(desired.name, "brokerform-aws"),
        "target_name": desired.name,
        "description": target.description or (loaded.manifest.metadata.description if loaded else None)
        or f"SQS/SNS topology of brokerform target {desired.name}",
        "region": target.region,
        "account_placeholder": ACCOUNT_PLACEHOLDER,
        "statements": statements,
        "source": str(loaded.display_root) if loaded else "",
        "counts": {kind: sum(1 for a in desired.resources if a.kind == kind) for kind in PULUMI_TYPES},
    }
    return render_project("pulumi/aws", context, out_dir)
