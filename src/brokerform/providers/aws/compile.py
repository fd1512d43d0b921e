"""Compile channels and native declarations into desired SQS/SNS resources (no SDK imports).

Resource kinds and their properties (the same shape `provider.read()` returns):

- `queue`: name, fifo, visibility_timeout / retention / delay / receive_wait_time (integer
  seconds), max_message_size (bytes), content_based_deduplication, deduplication_scope,
  fifo_throughput_limit, redrive {dead_letter_queue, max_receive_count}, redrive_allow
  {permission, source_queues}, sse {managed | kms_key, data_key_reuse}, tags.
- `queue_policy`: queue (its name), policy (an IAM document; ARNs of this account use
  `${aws:account_id}`, which the provider fills in; `${aws:region}` is filled in here).
- `topic`: name, fifo, content_based_deduplication, kms_key, policy, tags.
- `subscription`: topic, protocol, endpoint, filter_policy, filter_policy_scope, raw_delivery,
  dead_letter_queue.

Queues and topics are addressed by their name without `.fifo`, so that turning FIFO on or off
is a REPLACE of the same resource (and its policy and subscriptions follow), not an unrelated
delete and create. Queues, topics and DLQs of this target are referred to by name, never by
ARN, so plans do not depend on the account id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from brokerform.errors import ManifestError, Problem, format_path
from brokerform.resources import Address, Resource
from brokerform.secrets import replace_url_passwords

ACCOUNT_PLACEHOLDER = "${aws:account_id}"
REGION_PLACEHOLDER = "${aws:region}"
FIFO_SUFFIX = ".fifo"

QUEUE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
TOPIC_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

# (property, low, high, unit shown in errors) — AWS limits that moto does not enforce.
QUEUE_LIMITS: dict[str, tuple[int, int, str]] = {
    "visibility_timeout": (0, 43_200, "s"),
    "retention": (60, 1_209_600, "s"),
    "delay": (0, 900, "s"),
    "receive_wait_time": (0, 20, "s"),
    "max_message_size": (1_024, 1_048_576, "bytes"),
}
DATA_KEY_REUSE_LIMITS = (60, 86_400)
MAX_RECEIVE_COUNT_LIMITS = (1, 1_000)
DEFAULT_MAX_RECEIVE_COUNT = 5


def base_name(name: str) -> str:
    """A queue/topic name without `.fifo`: the identity that survives a FIFO change."""
    return name[: -len(FIFO_SUFFIX)] if name.endswith(FIFO_SUFFIX) else name


def with_fifo_suffix(name: str, fifo: bool) -> str:
    return base_name(name) + (FIFO_SUFFIX if fifo else "")


def arn(service: str, region: str, name: str, account: str = ACCOUNT_PLACEHOLDER) -> str:
    return f"arn:{partition(region)}:{service}:{region}:{account}:{name}"


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def without_url_password(endpoint: str) -> str:
    """`https://user:secret@host/x` -> `https://user@host/x`: what identifies an endpoint in names."""
    return replace_url_passwords(endpoint, lambda password: None, count=1)


def subscription_name(topic: str, protocol: str, endpoint: str) -> str:
    """Subscriptions have no name in SNS: `<topic> -> <protocol>:<endpoint>` identifies one. An
    endpoint's URL password is left out: addresses are printed, and a password declared as a
    `${env:...}` reference must name the same subscription as the live, resolved one."""
    shown = base_name(endpoint) if protocol == "sqs" else without_url_password(endpoint)
    return f"{base_name(topic)} -> {protocol}:{shown}"


def seconds(ms: int) -> int:
    """Manifest durations are milliseconds; SQS takes whole seconds (rounded up, never shortened)."""
    return -(-ms // 1000)


def sendable_by_topics_policy(queue_name: str, topic_names: list[str], region: str, account: str) -> dict[str, Any]:
    """The queue policy that lets these SNS topics (and only them, by aws:SourceArn) send to the queue."""
    sources = sorted(arn("sns", region, t, account) for t in topic_names)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowSnsTopicsToSend",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn("sqs", region, queue_name, account),
                "Condition": {"ArnEquals": {"aws:SourceArn": sources[0] if len(sources) == 1 else sources}},
            }
        ],
    }


def canonical_policy(document: dict[str, Any]) -> dict[str, Any]:
    """One spelling per IAM policy meaning, so a policy AWS echoes back differently is not drift.

    Statement is always a list; one-element lists become scalars; `Principal: "*"` is
    `{"AWS": "*"}`; action names are lower-case (IAM compares them case-insensitively).
    """
    out = dict(document)
    statements = out.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if isinstance(statements, list):
        out["Statement"] = [_canonical_statement(s) if isinstance(s, dict) else s for s in statements]
    return out


def _canonical_statement(statement: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in statement.items():
        if key == "Principal" and value == "*":
            value = {"AWS": "*"}
        if key in ("Action", "NotAction"):
            value = [v.lower() if isinstance(v, str) else v for v in value] if isinstance(value, list) else (
                str(value).lower())
        out[key] = _unwrap_singletons(value)
    return out


def _unwrap_singletons(value: Any) -> Any:
    if isinstance(value, list):
        items = [_unwrap_singletons(v) for v in value]
        return items[0] if len(items) == 1 else sorted(items, key=str)
    if isinstance(value, dict):
        return {k: _unwrap_singletons(v) for k, v in value.items()}
    return value


@dataclass
class _Compiler:
    target_name: str
    target: Any
    loaded: Any
    resources: list[Resource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    # -- helpers ----------------------------------------------------------------
    @property
    def region(self) -> str:
        return self.target.region

    @property
    def account(self) -> str:
        return self.target.account_id or ACCOUNT_PLACEHOLDER

    def address(self, kind: str, name: str) -> Address:
        return Address(self.target_name, kind, "", name)

    def problem(self, path: tuple, message: str, *, key: bool = False) -> None:
        self.problems.append(Problem(self.loaded.locate(path, key=key), message, format_path(path)))

    def with_region(self, value: Any) -> Any:
        """Policies may say ${aws:region} (and ${aws:account_id}, filled in by the provider)."""
        if isinstance(value, str):
            return value.replace(REGION_PLACEHOLDER, self.region)
        if isinstance(value, list):
            return [self.with_region(v) for v in value]
        if isinstance(value, dict):
            return {k: self.with_region(v) for k, v in value.items()}
        return value

    def tags(self, own: dict[str, str] | None = None) -> dict[str, str]:
        return {**(own or {}), **self.target.scope.tags}

    def check_name(self, kind: str, name: str, path: tuple) -> None:
        pattern = QUEUE_NAME_RE if kind == "queue" else TOPIC_NAME_RE
        limit = 80 if kind == "queue" else 256
        if not pattern.match(base_name(name)) or len(name) > limit:
            self.problem(path, f"{kind} name {name!r}: at most {limit} characters of A-Z a-z 0-9 _ - "
                               f"(plus the .fifo suffix)", key=True)
        prefix = self.target.scope.name_prefix
        if prefix and not name.startswith(prefix):
            self.problem(path, f"{kind} name {name!r} is outside the target's scope: it must start with "
                               f"name_prefix {prefix!r}", key=True)

    def check_range(self, prop: str, value: int | None, path: tuple) -> None:
        if value is None:
            return
        low, high, unit = QUEUE_LIMITS[prop]
        if not low <= value <= high:
            self.problem(path, f"{prop} {value} {unit} is outside what SQS accepts ({low}..{high} {unit})")

    # -- native declarations ----------------------------------------------------
    def native_queue(self, name: str, queue: Any) -> None:
        path = ("targets", self.target_name, "queues", name)
        self.check_name("queue", name, path)
        props: dict[str, Any] = {"name": name, "fifo": queue.fifo}
        for prop in ("visibility_timeout", "retention", "delay", "receive_wait_time"):
            value = getattr(queue, prop)
            if value is not None:
                props[prop] = seconds(value)
                self.check_range(prop, props[prop], path + (prop,))
        if queue.max_message_size is not None:
            props["max_message_size"] = queue.max_message_size
            self.check_range("max_message_size", queue.max_message_size, path + ("max_message_size",))
        for prop in ("content_based_deduplication", "deduplication_scope", "fifo_throughput_limit"):
            value = getattr(queue, prop)
            if value is not None:
                if not queue.fifo:
                    self.problem(path + (prop,), f"{prop} applies to FIFO queues only", key=True)
                props[prop] = value
        depends: list[Address] = []
        if queue.redrive is not None:
            dlq = queue.redrive.dead_letter_queue
            props["redrive"] = {"dead_letter_queue": dlq, "max_receive_count": queue.redrive.max_receive_count}
            if not dlq.startswith("arn:"):
                depends.append(self.address("queue", base_name(dlq)))
        if queue.redrive_allow is not None:
            allow = queue.redrive_allow
            props["redrive_allow"] = {"permission": allow.permission}
            if allow.permission == "byQueue":
                if not allow.source_queues:
                    self.problem(path + ("redrive_allow", "source_queues"),
                                 "permission byQueue needs at least one source queue")
                props["redrive_allow"]["source_queues"] = sorted(allow.source_queues)
            elif allow.source_queues:
                self.problem(path + ("redrive_allow", "source_queues"),
                             f"source_queues only go with permission byQueue, not {allow.permission}")
        if queue.sse is not None:
            props["sse"] = self.sse(queue.sse, path + ("sse",))
        props["tags"] = self.tags(queue.tags)
        self.resources.append(Resource(self.address("queue", base_name(name)), props, depends, path, queue.protect))
        if queue.policy is not None:
            self.queue_policy(name, queue.policy, path + ("policy",), queue.protect)

    def sse(self, sse: Any, path: tuple) -> dict[str, Any]:
        if not sse.enabled:
            if sse.kms_key or sse.data_key_reuse is not None:
                self.problem(path, "kms_key and data_key_reuse need enabled: true")
            return {"managed": False}
        if sse.kms_key is None:
            if sse.data_key_reuse is not None:
                self.problem(path + ("data_key_reuse",), "data_key_reuse applies to KMS keys only (set kms_key)")
            return {"managed": True}
        out: dict[str, Any] = {"kms_key": sse.kms_key}
        if sse.data_key_reuse is not None:
            out["data_key_reuse"] = seconds(sse.data_key_reuse)
            low, high = DATA_KEY_REUSE_LIMITS
            if not low <= out["data_key_reuse"] <= high:
                self.problem(path + ("data_key_reuse",), f"data_key_reuse must be {low}..{high} s")
        return out

    def queue_policy(self, queue_name: str, policy: dict[str, Any], path: tuple, protect: bool = False,
                     extra_depends: list[Address] | None = None) -> None:
        depends = [self.address("queue", base_name(queue_name))] + list(extra_depends or [])
        self.resources.append(Resource(self.address("queue_policy", base_name(queue_name)),
                                       {"queue": queue_name, "policy": canonical_policy(self.with_region(policy))},
                                       depends, path, protect))

    def native_topic(self, name: str, topic: Any) -> None:
        path = ("targets", self.target_name, "topics", name)
        self.check_name("topic", name, path)
        props: dict[str, Any] = {"name": name, "fifo": topic.fifo}
        if topic.content_based_deduplication is not None:
            if not topic.fifo:
                self.problem(path + ("content_based_deduplication",), "applies to FIFO topics only", key=True)
            props["content_based_deduplication"] = topic.content_based_deduplication
        if topic.kms_key is not None:
            props["kms_key"] = topic.kms_key
        if topic.policy is not None:
            props["policy"] = canonical_policy(self.with_region(topic.policy))
        props["tags"] = self.tags(topic.tags)
        self.resources.append(Resource(self.address("topic", base_name(name)), props, [], path, topic.protect))

    def native_subscription(self, key: str, sub: Any) -> None:
        path = ("targets", self.target_name, "subscriptions", key)
        props: dict[str, Any] = {"topic": sub.topic, "protocol": sub.protocol, "endpoint": sub.endpoint}
        depends: list[Address] = []
        if not sub.topic.startswith("arn:"):
            depends.append(self.address("topic", base_name(sub.topic)))
        if sub.protocol == "sqs" and not sub.endpoint.startswith("arn:"):
            depends.append(self.address("queue", base_name(sub.endpoint)))
            queue = self.target.queues.get(sub.endpoint)
            if queue is not None and queue.policy is not None:
                depends.append(self.address("queue_policy", base_name(sub.endpoint)))
        self.check_fifo_match(sub, path)
        if sub.filter_policy is not None:
            self.check_filter_policy(sub.filter_policy, path + ("filter_policy",))
            props["filter_policy"] = sub.filter_policy
        if sub.filter_policy_scope is not None:
            if sub.filter_policy is None:
                self.problem(path + ("filter_policy_scope",), "filter_policy_scope needs a filter_policy", key=True)
            props["filter_policy_scope"] = sub.filter_policy_scope
        if sub.raw_delivery is not None:
            props["raw_delivery"] = sub.raw_delivery
        if sub.dead_letter_queue is not None:
            props["dead_letter_queue"] = sub.dead_letter_queue
            if not sub.dead_letter_queue.startswith("arn:"):
                depends.append(self.address("queue", base_name(sub.dead_letter_queue)))
        name = subscription_name(sub.topic, sub.protocol, sub.endpoint)
        self.resources.append(Resource(self.address("subscription", name), props, depends, path, sub.protect))

    def is_fifo(self, kind: str, name: str) -> bool:
        """Declared here: its `fifo`; an ARN or an outside name: SQS/SNS require the .fifo suffix."""
        declared = (self.target.queues if kind == "queue" else self.target.topics).get(name)
        return declared.fifo if declared is not None else name.endswith(".fifo")

    def check_fifo_match(self, sub: Any, path: tuple) -> None:
        """SNS refuses these only at Subscribe, after a replace has already deleted the old queue."""
        topic_fifo = self.is_fifo("topic", sub.topic)
        if sub.protocol == "sqs" and self.is_fifo("queue", sub.endpoint) and not topic_fifo:
            self.problem(path + ("endpoint",), f"FIFO queue {sub.endpoint!r} cannot subscribe to the standard topic "
                                               f"{sub.topic!r}: make the topic FIFO or the queue standard")
        if sub.dead_letter_queue is not None and self.is_fifo("queue", sub.dead_letter_queue) != topic_fifo:
            want = "FIFO" if topic_fifo else "standard"
            self.problem(path + ("dead_letter_queue",), f"the dead-letter queue of a subscription to a {want} topic "
                                                        f"must be a {want} queue, got {sub.dead_letter_queue!r}")

    def check_filter_policy(self, policy: Any, path: tuple) -> None:
        """SNS wants every attribute matched against a list (`b: [x]`); a bare value is refused at apply."""
        for key, value in policy.items():
            if isinstance(value, dict):
                self.check_filter_policy(value, path + (key,))
            elif key == "$or" and isinstance(value, list):
                for index, branch in enumerate(value):
                    if isinstance(branch, dict):
                        self.check_filter_policy(branch, path + (key, index))
                    else:
                        self.problem(path + (key, index), "each $or branch is a filter policy object")
            elif not isinstance(value, list):
                self.problem(path + (key,), f"a filter policy matches a list of values: write {key}: [{_yaml(value)}]")

    # -- logical channels ---------------------------------------------------------
    def channel_name(self, key: str, channel: Any) -> str:
        """Channel names may contain dots (orders.events); SQS/SNS names may not: dots become dashes."""
        raw = re.sub(r"[^A-Za-z0-9_-]", "-", channel.name or key)
        prefix = self.target.scope.name_prefix or ""
        return raw if raw.startswith(prefix) else prefix + raw

    def channel(self, key: str, channel: Any) -> None:
        path = ("channels", key)
        fifo = channel.ordering is not None and channel.ordering.mode in ("fifo", "per-key")
        if channel.duplicate_detection is not None and not fifo:
            self.problem(path + ("duplicate_detection",),
                         "SQS and SNS de-duplicate FIFO queues and topics only: add ordering: {mode: fifo}", key=True)
        name = self.channel_name(key, channel)
        if channel.pattern == "pubsub":
            self.pubsub(key, channel, name, fifo)
        else:
            self.channel_queue(key, channel, name, fifo, path)
            if channel.pattern == "request-reply" and channel.reply is not None:
                reply_name = re.sub(r"[^A-Za-z0-9_-]", "-", channel.reply.queue) if channel.reply.queue else f"{name}-reply"
                self.channel_queue(key, channel, reply_name, fifo, path + ("reply",),
                                   retention_ms=channel.reply.ttl, with_dlq=False)

    def pubsub(self, key: str, channel: Any, name: str, fifo: bool) -> None:
        path = ("channels", key)
        topic_name = with_fifo_suffix(name, fifo)
        self.check_name("topic", topic_name, path)
        topic: dict[str, Any] = {"name": topic_name, "fifo": fifo}
        if fifo and channel.duplicate_detection is not None:
            topic["content_based_deduplication"] = True
        if channel.encryption is not None and channel.encryption.kms_key:
            topic["kms_key"] = channel.encryption.kms_key
        topic["tags"] = self.tags()
        topic_address = self.address("topic", base_name(topic_name))
        self.resources.append(Resource(topic_address, topic, [], path, channel.protect, key))
        for sub_key, sub in channel.subscriptions.items():
            sub_path = path + ("subscriptions", sub_key)
            queue_name = self.channel_queue(key, channel, f"{name}-{re.sub(r'[^A-Za-z0-9_-]', '-', sub_key)}",
                                            fifo, sub_path)
            policy = sendable_by_topics_policy(queue_name, [topic_name], self.region, self.account)
            self.queue_policy(queue_name, policy, sub_path, channel.protect, [topic_address])
            props: dict[str, Any] = {"topic": topic_name, "protocol": "sqs", "endpoint": queue_name,
                                     "raw_delivery": True}
            if sub.filter is not None and (sub.filter.attributes or sub.filter.headers):
                props["filter_policy"] = self.filter_policy(sub.filter)
                props["filter_policy_scope"] = "MessageAttributes"
            depends = [topic_address, self.address("queue", base_name(queue_name)),
                       self.address("queue_policy", base_name(queue_name))]
            address = self.address("subscription", subscription_name(topic_name, "sqs", queue_name))
            self.resources.append(Resource(address, props, depends, sub_path, channel.protect, key))

    @staticmethod
    def filter_policy(flt: Any) -> dict[str, Any]:
        """filter.attributes is an SNS filter policy already; filter.headers means exact matches."""
        if flt.attributes is not None:
            return {k: v if isinstance(v, (list, dict)) else [v] for k, v in flt.attributes.items()}
        return {k: [v] for k, v in flt.headers.items()}

    def channel_queue(self, key: str, channel: Any, name: str, fifo: bool, path: tuple, *,
                      retention_ms: int | None = None, with_dlq: bool = True) -> str:
        """One SQS queue carrying a channel's settings (and its DLQ); returns the queue's AWS name."""
        queue_name = with_fifo_suffix(name, fifo)
        self.check_name("queue", queue_name, path)
        props: dict[str, Any] = {"name": queue_name, "fifo": fifo}
        if channel.ack_timeout is not None:
            props["visibility_timeout"] = seconds(channel.ack_timeout)
            self.check_range("visibility_timeout", props["visibility_timeout"], ("channels", key, "ack_timeout"))
        retention = retention_ms if retention_ms is not None else channel.ttl
        if retention is not None:
            props["retention"] = seconds(retention)
            where = path + ("ttl",) if retention_ms is not None else ("channels", key, "ttl")
            self.check_range("retention", props["retention"], where)
        if fifo and channel.duplicate_detection is not None:
            props["content_based_deduplication"] = True
        if fifo and channel.ordering is not None and channel.ordering.mode == "per-key":
            props["deduplication_scope"] = "messageGroup"
            props["fifo_throughput_limit"] = "perMessageGroupId"
        if channel.encryption is not None and (channel.encryption.kms_key or channel.encryption.at_rest is not None):
            if channel.encryption.kms_key:
                props["sse"] = {"kms_key": channel.encryption.kms_key}
            else:
                props["sse"] = {"managed": bool(channel.encryption.at_rest)}
        depends: list[Address] = []
        dead = channel.dead_letter
        if with_dlq and dead is not None and dead.enabled:
            dlq_name = with_fifo_suffix(re.sub(r"[^A-Za-z0-9_.-]", "-", dead.target) if dead.target else
                                        f"{base_name(queue_name)}-dlq", fifo)
            count = dead.max_deliveries or (channel.retry.attempts + 1 if channel.retry else DEFAULT_MAX_RECEIVE_COUNT)
            low, high = MAX_RECEIVE_COUNT_LIMITS
            if not low <= count <= high:
                self.problem(("channels", key, "dead_letter", "max_deliveries"),
                             f"SQS redrives after {low}..{high} receives, not {count}")
            props["redrive"] = {"dead_letter_queue": dlq_name, "max_receive_count": count}
            depends.append(self.address("queue", base_name(dlq_name)))
            self.dead_letter_queue(key, channel, dlq_name, queue_name, fifo)
        props["tags"] = self.tags()
        self.resources.append(Resource(self.address("queue", base_name(queue_name)), props, depends, path,
                                       channel.protect, key))
        return queue_name

    def dead_letter_queue(self, key: str, channel: Any, dlq_name: str, source: str, fifo: bool) -> None:
        """A DLQ shared by several queues (dead_letter.target) is declared once, allowing every source."""
        path = ("channels", key, "dead_letter")
        address = self.address("queue", base_name(dlq_name))
        existing = next((r for r in self.resources if r.address == address), None)
        if existing is not None and existing.channel == key:
            existing.properties["redrive_allow"]["source_queues"] = sorted(
                set(existing.properties["redrive_allow"]["source_queues"]) | {source})
            return
        self.check_name("queue", dlq_name, path)
        props: dict[str, Any] = {"name": dlq_name, "fifo": fifo}
        if channel.dead_letter.ttl is not None:
            props["retention"] = seconds(channel.dead_letter.ttl)
            self.check_range("retention", props["retention"], path + ("ttl",))
        props["redrive_allow"] = {"permission": "byQueue", "source_queues": [source]}
        props["tags"] = self.tags()
        self.resources.append(Resource(address, props, [], path, channel.protect, key))


def _yaml(value: Any) -> str:
    return json.dumps(value)  # a flow-style YAML scalar: "x", 5, true


def compile_target(name: str, target: Any, channels: dict[str, Any], loaded: Any) -> list[Resource]:
    """Native declarations pass through (validated); each channel expands to topic/queues/policies."""
    compiler = _Compiler(name, target, loaded)
    for queue_name, queue in target.queues.items():
        compiler.native_queue(queue_name, queue)
    for topic_name, topic in target.topics.items():
        compiler.native_topic(topic_name, topic)
    for key, sub in target.subscriptions.items():
        compiler.native_subscription(key, sub)
    for key, channel in channels.items():
        compiler.channel(key, channel)
    if compiler.problems:
        raise ManifestError(compiler.problems)
    return compiler.resources
