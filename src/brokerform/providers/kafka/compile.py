"""Compile Kafka channels and native declarations into desired resources (no SDK imports).

Resource kinds and their properties (the provider reads the same shapes back):

- `topic`  {partitions, replication_factor, configs: {key: string}}; partitions and
  replication_factor are omitted when undeclared (the broker default applies and is never drift).
- `acl`    every field of the binding; the address name is the canonical string of all fields,
  so any change is a delete + create.
- `user`   {mechanism, iterations} of a SCRAM credential (the password is never a property).

Naming conventions for channels (documented in docs/providers/kafka.md):
- topic: the channel's `name`, else its key;
- dead-letter topic: `dead_letter.target`, else `<topic>.dlq`;
- retry tiers: `<topic>.retry.<delay>` (e.g. `clicks.retry.30s`), in order, ending in the DLQ;
- pubsub subscription `S` consumes with consumer group `<topic>.S`; competing-consumers and
  point-to-point channels with `consumer_group` (default `<topic>.consumers`);
- request-reply: the reply topic is `reply.queue`, else `<topic>.reply`.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Iterator

from brokerform.errors import ManifestError, Problem, format_path
from brokerform.model.units import format_duration_ms, parse_duration_ms, parse_size_bytes
from brokerform.resources import Address, Resource

KAFKA_OPERATIONS = {
    "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
    "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE",
}
LIST_CONFIGS = {"cleanup.policy", "leader.replication.throttled.replicas", "follower.replication.throttled.replicas"}
_NUMBER_RE = re.compile(r"^-?\d+$")


class _Problems(list):
    """Problems collected while compiling one target, raised together at the end."""

    def __init__(self, loaded):
        super().__init__()
        self.loaded = loaded

    def add(self, path: tuple, message: str) -> None:
        self.append(Problem(self.loaded.locate(path), message, format_path(path)))


# -- values --------------------------------------------------------------------------------
def normalise_config(key: str, value: Any) -> str:
    """The string Kafka stores for a config value: 604800000, "604800000" and "7d" agree on retention.ms."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(str(v).strip() for v in value)
    text = str(value).strip()
    if key.endswith(".ms") and text and not _NUMBER_RE.match(text):
        return str(parse_duration_ms(text))
    if key.endswith(".bytes") and text and not _NUMBER_RE.match(text):
        return str(parse_size_bytes(text))
    if key in LIST_CONFIGS:
        return ",".join(part.strip() for part in text.split(","))
    return text


# Topic configs of Kafka 4.1 (a topic's describe_configs), plus ones older brokers still know.
TOPIC_CONFIGS = frozenset({
    "cleanup.policy", "compression.gzip.level", "compression.lz4.level", "compression.type",
    "compression.zstd.level", "delete.retention.ms", "file.delete.delay.ms", "flush.messages", "flush.ms",
    "follower.replication.throttled.replicas", "index.interval.bytes", "leader.replication.throttled.replicas",
    "local.retention.bytes", "local.retention.ms", "max.compaction.lag.ms", "max.message.bytes",
    "message.timestamp.after.max.ms", "message.timestamp.before.max.ms", "message.timestamp.type",
    "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas", "preallocate",
    "remote.log.copy.disable", "remote.log.delete.on.disable", "remote.storage.enable", "retention.bytes",
    "retention.ms", "segment.bytes", "segment.index.bytes", "segment.jitter.ms", "segment.ms",
    "unclean.leader.election.enable",
    "message.format.version", "message.timestamp.difference.max.ms", "message.downconversion.enable",  # Kafka 3.x
})
_BOOLEAN = ("true or false", lambda v: v in ("true", "false"))
_CONFIG_VALUES: dict[str, tuple[str, Any]] = {
    "cleanup.policy": ("delete, compact or both", lambda v: bool(v) and set(v.split(",")) <= {"delete", "compact"}),
    "compression.type": ("one of uncompressed, zstd, lz4, snappy, gzip, producer",
                         lambda v: v in ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")),
    "message.timestamp.type": ("CreateTime or LogAppendTime", lambda v: v in ("CreateTime", "LogAppendTime")),
    "min.cleanable.dirty.ratio": ("a number from 0 to 1", lambda v: _number_between(v, 0.0, 1.0)),
    "compression.gzip.level": ("-1 or an integer from 1 to 9", lambda v: v == "-1" or _integer_between(v, 1, 9)),
    "preallocate": _BOOLEAN, "unclean.leader.election.enable": _BOOLEAN, "remote.storage.enable": _BOOLEAN,
}
INT_MAX, LONG_MAX = 2**31 - 1, 2**63 - 1
# (minimum, maximum) of numeric topic configs as Kafka 4.x checks them (each verified against a 4.1
# broker with validate-only CreateTopics: "Value must be at least ..." / "Not a number of type INT").
# segment.bytes: at least 1 MiB since Kafka 4.0 (KIP-1030; 14 bytes before).
_CONFIG_RANGES: dict[str, tuple[int, int]] = {
    "segment.bytes": (1_048_576, INT_MAX), "segment.index.bytes": (4, INT_MAX), "index.interval.bytes": (0, INT_MAX),
    "max.message.bytes": (0, INT_MAX), "min.insync.replicas": (1, INT_MAX),
    "compression.lz4.level": (1, 17), "compression.zstd.level": (-131_072, 22),
    "segment.ms": (1, LONG_MAX), "retention.ms": (-1, LONG_MAX), "retention.bytes": (-LONG_MAX - 1, LONG_MAX),
    "delete.retention.ms": (0, LONG_MAX), "file.delete.delay.ms": (0, LONG_MAX), "flush.messages": (1, LONG_MAX),
    "flush.ms": (0, LONG_MAX), "max.compaction.lag.ms": (1, LONG_MAX), "min.compaction.lag.ms": (0, LONG_MAX),
    "segment.jitter.ms": (0, LONG_MAX), "message.timestamp.before.max.ms": (0, LONG_MAX),
    "message.timestamp.after.max.ms": (0, LONG_MAX), "local.retention.ms": (-2, LONG_MAX),
    "local.retention.bytes": (-2, LONG_MAX),
}


def _integer_between(value: str, low: int, high: int) -> bool:
    return bool(_NUMBER_RE.match(value)) and low <= int(value) <= high


def _number_between(value: str, low: float, high: float) -> bool:
    try:
        return low <= float(value) <= high
    except ValueError:
        return False


def _range_text(low: int, high: int, value: str) -> str:
    """The bound a value breaks, in the words a reader needs (`>= 1048576`, `<= 2147483647`)."""
    if high not in (INT_MAX, LONG_MAX):
        return f"an integer from {low} to {high}"
    if _NUMBER_RE.match(value) and int(value) > high:
        return f"an integer <= {high}"
    return f"an integer >= {low}"


def config_problem(key: str, value: str) -> str | None:
    """A typo'd config name (Kafka refuses unknown names only when the topic is created) or a
    value of a known config that Kafka would refuse. Names far from every known one pass: a
    newer broker may know them."""
    if key not in TOPIC_CONFIGS:
        close = difflib.get_close_matches(key, TOPIC_CONFIGS, n=1, cutoff=0.8)
        return f"unknown topic config {key!r}; did you mean {close[0]!r}?" if close else None
    if key in _CONFIG_RANGES:
        low, high = _CONFIG_RANGES[key]
        if not _integer_between(value, low, high):
            return f"Kafka expects {_range_text(low, high, value)} for {key}, got {value!r}"
        return None
    known = _CONFIG_VALUES.get(key)
    if known is not None and not known[1](value):
        return f"Kafka expects {known[0]} for {key}, got {value!r}"
    return None


def comparable_config(key: str, value: Any) -> Any:
    """Order-insensitive form of list-valued configs (cleanup.policy=delete,compact)."""
    if value is None:
        return None
    text = normalise_config(key, value)
    if key in LIST_CONFIGS:
        return ",".join(sorted(p for p in text.split(",") if p))
    return text


def principal_of(service: str) -> str:
    """`orders-svc` -> `User:orders-svc`; an explicit `User:x` / `Group:x` stays as written."""
    return service if ":" in service else f"User:{service}"


def acl_name(acl: dict[str, str]) -> str:
    """Canonical, human-readable identity of an ACL binding (every field takes part)."""
    return (f"{acl['permission']} {acl['principal']}@{acl['host']} {acl['operation']} "
            f"{acl['resource_type']}:{acl['pattern_type']}:{acl['resource_name']}")


def quota_name(user: str | None, client_id: str | None) -> str:
    return ",".join(p for p in (f"user={user}" if user else "", f"client-id={client_id}" if client_id else "") if p)


QUOTA_VALUES = ("producer_byte_rate", "consumer_byte_rate", "request_percentage", "controller_mutation_rate")


def quota_entity(user: str | None, client_id: str | None) -> dict[str, str]:
    """The entity of a quota as the Kafka protocol names it."""
    return {k: v for k, v in (("user", user), ("client-id", client_id)) if v}


def acl_problem(acl: dict[str, str]) -> str | None:
    """What the broker would refuse in CreateAcls (INVALID_REQUEST) after the rest of the apply went in."""
    if not acl["resource_name"]:
        return "Kafka refuses an ACL with an empty resource_name"
    if acl["resource_type"] == "CLUSTER" and acl["resource_name"] != "kafka-cluster":
        return f"the only resource_name of a CLUSTER ACL is kafka-cluster, got {acl['resource_name']!r}"
    return None


def make_acl(principal: str, operation: str, resource_type: str, resource_name: str, *,
             permission: str = "ALLOW", host: str = "*", pattern_type: str = "LITERAL") -> dict[str, str]:
    if resource_name.endswith("*") and resource_type != "CLUSTER" and pattern_type == "LITERAL" and resource_name != "*":
        resource_name, pattern_type = resource_name[:-1], "PREFIXED"
    return {
        "principal": principal, "host": host, "operation": operation, "permission": permission,
        "resource_type": resource_type, "resource_name": resource_name, "pattern_type": pattern_type,
    }


# -- compilation ---------------------------------------------------------------------------
class _Compiler:
    def __init__(self, name: str, target, channels: dict, loaded):
        self.name = name
        self.target = target
        self.channels = channels
        self.problems = _Problems(loaded)
        self.resources: list[Resource] = []
        self._acls: dict[str, Resource] = {}
        self.topic_names: set[str] = set(target.topics)

    def run(self) -> list[Resource]:
        for channel_name, channel in self.channels.items():
            self.topic_names.update(t for t, _ in self._channel_topic_names(channel_name, channel))
        self._security_settings()
        for topic_name, topic in self.target.topics.items():
            self._native_topic(topic_name, topic)
        for index, acl in enumerate(self.target.acls):
            path = ("targets", self.name, "acls", index)
            self._add_acl(acl.model_dump(), path, name_path=path + ("resource_name",))
        for service_name, service in self.target.services.items():
            self._service(service_name, service)
        for group_name, group in self.target.consumer_groups.items():
            for principal in group.principals:
                self._add_acl(make_acl(principal_of(principal), "READ", "GROUP", group_name),
                              ("targets", self.name, "consumer_groups", group_name))
        for user_name, user in self.target.users.items():
            self.resources.append(Resource(
                Address(self.name, "user", "", user_name),
                {"mechanism": user.mechanism, "iterations": user.iterations},
                source=("targets", self.name, "users", user_name), protect=user.protect,
            ))
        for index, quota in enumerate(self.target.quotas):
            self._quota(index, quota)
        for channel_name, channel in self.channels.items():
            self._channel(channel_name, channel)
        if self.problems:
            raise ManifestError(list(self.problems))
        return self.resources + list(self._acls.values())

    # -- target settings -----------------------------------------------------------------
    def _security_settings(self) -> None:
        protocol = self.target.security_protocol.upper()
        path = ("targets", self.name, "security_protocol")
        if protocol not in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
            self.problems.add(path, f"unknown security protocol {self.target.security_protocol!r} "
                                    "(PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)")
            return
        tls = self.target.tls
        if tls is not None and tls.enabled and "SSL" not in protocol:
            self.problems.add(path, f"tls is declared but security_protocol is {protocol}: traffic would not be "
                                    "encrypted; use SSL or SASL_SSL")
        if self.target.sasl is not None and not protocol.startswith("SASL"):
            self.problems.add(path, f"sasl is declared but security_protocol is {protocol}; use SASL_PLAINTEXT or SASL_SSL")
        if protocol.startswith("SASL") and self.target.sasl is None:
            self.problems.add(path, f"security_protocol {protocol} needs a sasl block (mechanism, username, password)")

    # -- topics --------------------------------------------------------------------------
    def _configs(self, configs: dict[str, Any], path: tuple) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in configs.items():
            try:
                out[key] = normalise_config(key, value)
            except ValueError as exc:
                self.problems.add(path + (key,), str(exc))
                continue
            problem = config_problem(key, out[key])
            if problem:
                self.problems.add(path + (key,), problem)
        return out

    def _native_topic(self, topic_name: str, topic) -> None:
        path = ("targets", self.name, "topics", topic_name)
        configs = self._configs(topic.configs, path + ("configs",))
        if topic.retention is not None:
            configs["retention.ms"] = str(topic.retention)
        self._add_topic(topic_name, topic.partitions, topic.replication_factor, configs, path, protect=topic.protect)

    def _add_topic(self, topic_name: str, partitions: int | None, replication_factor: int | None,
                   configs: dict[str, str], path: tuple, *, protect: bool = False, channel: str | None = None) -> Address:
        properties: dict[str, Any] = {}
        if partitions is not None:
            properties["partitions"] = partitions
        if replication_factor is not None:
            properties["replication_factor"] = replication_factor
        properties["configs"] = dict(sorted(configs.items()))
        address = Address(self.name, "topic", "", topic_name)
        self.resources.append(Resource(address, properties, source=path, protect=protect, channel=channel))
        return address

    # -- acls ----------------------------------------------------------------------------
    def _add_acl(self, acl: dict[str, str], path: tuple, channel: str | None = None, *,
                 name_path: tuple | None = None) -> None:
        problem = acl_problem(acl)
        if problem:
            self.problems.add(name_path or path, problem)
            return
        name = acl_name(acl)
        if name in self._acls:  # the same grant implied twice (a service and a channel) is one ACL
            return
        depends = []
        if acl["resource_type"] == "TOPIC" and acl["pattern_type"] == "LITERAL" and acl["resource_name"] in self.topic_names:
            depends.append(Address(self.name, "topic", "", acl["resource_name"]))
        self._acls[name] = Resource(Address(self.name, "acl", "", name), dict(acl), depends, source=path, channel=channel)

    def _grant_produce(self, principal: str, topic: str, path: tuple, channel: str | None = None) -> None:
        for operation in ("WRITE", "DESCRIBE"):
            self._add_acl(make_acl(principal, operation, "TOPIC", topic), path, channel)

    def _grant_consume(self, principal: str, topic: str, group: str | None, path: tuple, channel: str | None = None) -> None:
        for operation in ("READ", "DESCRIBE"):
            self._add_acl(make_acl(principal, operation, "TOPIC", topic), path, channel)
        if group:
            self._add_acl(make_acl(principal, "READ", "GROUP", group), path, channel)

    def _service(self, service_name: str, service) -> None:
        path = ("targets", self.name, "services", service_name)
        principal = principal_of(service.principal)
        for topic in service.produces:
            self._grant_produce(principal, topic, path)
        for topic in service.consumes:
            self._grant_consume(principal, topic, None, path)
        if service.consumes:
            self._add_acl(make_acl(principal, "READ", "GROUP", service.group or service_name), path)
        if service.transactional_id:
            for operation in ("WRITE", "DESCRIBE"):
                self._add_acl(make_acl(principal, operation, "TRANSACTIONAL_ID", service.transactional_id), path)

    # -- channels ------------------------------------------------------------------------
    def _channel_topic_names(self, channel_name: str, channel) -> Iterator[tuple[str, str]]:
        """(topic name, role) of every topic a channel compiles to."""
        topic = channel.name or channel_name
        yield topic, "main"
        if channel.pattern == "request-reply" and channel.reply is not None:
            yield channel.reply.queue or f"{topic}.reply", "reply"
        for delay in _retry_delays(channel):
            yield f"{topic}.retry.{format_duration_ms(delay)}", "retry"
        dlq = _dead_letter_topic(channel, topic)
        if dlq:
            yield dlq, "dlq"

    def _quota(self, index: int, quota) -> None:
        path = ("targets", self.name, "quotas", index)
        values = {k: getattr(quota, k) for k in QUOTA_VALUES if getattr(quota, k) is not None}
        empty = [field for field in ("user", "client_id") if getattr(quota, field) == ""]
        for field in empty:  # "" would silently vanish from the entity: {user: "", client_id: X} is not (X)
            self.problems.add(path + (field,), f'an empty {field} names no entity; "<default>" is the default entity')
        if empty:
            return
        if not (quota.user or quota.client_id):
            self.problems.add(path, "a quota names a user, a client_id or both")
            return
        if not values:
            self.problems.add(path, f"a quota sets at least one of {', '.join(QUOTA_VALUES)}")
            return
        self.resources.append(Resource(
            Address(self.name, "quota", "", quota_name(quota.user, quota.client_id)),
            {"entity": quota_entity(quota.user, quota.client_id), **values}, source=path,
        ))

    def _channel(self, channel_name: str, channel) -> None:
        path = ("channels", channel_name)
        self._unsupported_channel_settings(path, channel)
        topic = channel.name or channel_name
        configs: dict[str, str] = {}
        if channel.ttl is not None:
            configs["retention.ms"] = str(channel.ttl)
        if channel.max_length is not None and channel.max_length.bytes is not None:
            configs["retention.bytes"] = str(channel.max_length.bytes)
        if channel.min_insync_replicas is not None:
            configs["min.insync.replicas"] = str(channel.min_insync_replicas)
        if channel.contract is not None and channel.contract.max_message_size is not None:
            configs["max.message.bytes"] = str(channel.contract.max_message_size)
        shape = (channel.partitions, channel.replication_factor)
        self._add_topic(topic, *shape, configs, path, protect=channel.protect, channel=channel_name)

        producers = [principal_of(p) for p in channel.producers]
        consumers: list[tuple[str, str]] = []  # (principal, group)
        if channel.pattern == "pubsub":
            for sub_name, sub in channel.subscriptions.items():
                consumers.extend((principal_of(c), f"{topic}.{sub_name}") for c in sub.consumers)
        elif channel.pattern in ("competing-consumers", "point-to-point", "request-reply"):
            group = channel.consumer_group or f"{topic}.consumers"
            consumers.extend((principal_of(c), group) for c in channel.consumers)
        for principal in producers:
            self._grant_produce(principal, topic, path, channel_name)
        for principal, group in consumers:
            self._grant_consume(principal, topic, group, path, channel_name)

        if channel.pattern == "request-reply" and channel.reply is not None:
            reply = channel.reply.queue or f"{topic}.reply"
            self._add_topic(reply, channel.partitions, channel.replication_factor,
                            {"retention.ms": str(channel.reply.ttl)}, path + ("reply",), channel=channel_name)
            for principal, _group in consumers:
                self._grant_produce(principal, reply, path + ("reply",), channel_name)
            for principal in producers:
                self._grant_consume(principal, reply, f"{reply}*", path + ("reply",), channel_name)

        dlq = _dead_letter_topic(channel, topic)
        retry_topics = [f"{topic}.retry.{format_duration_ms(d)}" for d in _retry_delays(channel)]
        for retry_topic in retry_topics:
            retry_configs = {"retention.ms": configs["retention.ms"]} if "retention.ms" in configs else {}
            self._add_topic(retry_topic, *shape, retry_configs, path + ("retry",), channel=channel_name)
        if dlq:
            dlq_configs = {}
            if channel.dead_letter is not None and channel.dead_letter.ttl is not None:
                dlq_configs["retention.ms"] = str(channel.dead_letter.ttl)
            dlq_path = path + (("dead_letter",) if channel.dead_letter is not None else ("retry",))
            self._add_topic(dlq, *shape, dlq_configs, dlq_path, channel=channel_name)
        # consumers move failed messages along the chain: retry tiers (read + write), then the DLQ (write)
        for principal, group in consumers:
            for retry_topic in retry_topics:
                self._grant_consume(principal, retry_topic, group, path + ("retry",), channel_name)
                self._grant_produce(principal, retry_topic, path + ("retry",), channel_name)
            if dlq:
                self._grant_produce(principal, dlq, path + ("dead_letter",), channel_name)

        for index, acl in enumerate(channel.acls):
            self._channel_acl(channel_name, topic, index, acl)

    def _channel_acl(self, channel_name: str, topic: str, index: int, acl) -> None:
        path = ("channels", channel_name, "acls", index)
        for op_index, operation in enumerate(acl.operations):
            op = operation.upper().replace("-", "_")
            if op not in KAFKA_OPERATIONS:
                self.problems.add(path + ("operations", op_index),
                                  f"{operation!r} is not a Kafka ACL operation ({', '.join(sorted(KAFKA_OPERATIONS))})")
                continue
            self._add_acl(make_acl(principal_of(acl.principal), op, "TOPIC", topic,
                                   permission=acl.permission.upper(), host=acl.host), path, channel_name)

    def _unsupported_channel_settings(self, path: tuple, channel) -> None:
        if not channel.durable:
            self.problems.add(path + ("durable",), "Kafka topics are always durable (written to the log)")
        if channel.max_length is not None and channel.max_length.overflow != "drop-head":
            self.problems.add(path + ("max_length", "overflow"),
                              "Kafka can only drop the oldest segments at retention.bytes (overflow: drop-head)")
        if channel.pattern == "pubsub" and channel.consumers:
            self.problems.add(path + ("consumers",),
                              "on Kafka a pubsub channel's consumers belong to a subscription (its consumer group)")
        for sub_name, sub in channel.subscriptions.items():
            if sub.max_length is not None:
                self.problems.add(path + ("subscriptions", sub_name, "max_length"),
                                  "Kafka subscriptions (consumer groups) share the topic's log: set max_length on the channel")
        if channel.dead_letter is not None and not channel.dead_letter.enabled and channel.retry is not None:
            self.problems.add(path + ("retry",), "retry topics end in a dead-letter topic; enable dead_letter")


def _retry_delays(channel) -> list[int]:
    if channel.retry is None:
        return []
    tiers: list[int] = []
    for delay in channel.retry.delays_ms():
        if delay not in tiers:
            tiers.append(delay)
    return tiers


def _dead_letter_topic(channel, topic: str) -> str | None:
    if channel.dead_letter is not None:
        if not channel.dead_letter.enabled:
            return None
        return channel.dead_letter.target or f"{topic}.dlq"
    if channel.retry is not None:
        return f"{topic}.dlq"
    return None


def compile_target(name, target, channels, loaded) -> list[Resource]:
    """Desired topics, ACLs and users of one Kafka target; errors are located in the manifest."""
    return _Compiler(name, target, channels, loaded).run()
