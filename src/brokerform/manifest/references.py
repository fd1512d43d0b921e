"""Cross-reference checks that need the whole manifest (pydantic checks one model at a time)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

from brokerform.model.channels import BROKER_SUPPORT, Channel

Finding = tuple[tuple, str, bool]  # (path, message, point at the key rather than the value)


def find_reference_problems(manifest, base_dir: Path) -> list[Finding]:
    findings: list[Finding] = []
    for name, channel in manifest.channels.items():
        findings.extend(_channel_problems(manifest, name, channel, base_dir))
    for name, target in manifest.targets.items():
        checker = _TARGET_CHECKS.get(target.type)
        if checker:
            findings.extend(checker(("targets", name), target, manifest))
    findings.extend(_overlapping_targets(manifest))
    return findings


def _overlapping_targets(manifest) -> Iterator[Finding]:
    """Two targets that manage the same objects would undo each other's applies, and with
    prune each would delete the other's queues and topics: one owner per scope."""
    claimed: dict[tuple, list[tuple[str, tuple[str, ...]]]] = {}
    for name, target in manifest.targets.items():
        place, prefixes, what = _managed_place(target)
        if place is None:
            continue
        for other, other_prefixes in claimed.get(place, []):
            if any(p.startswith(q) or q.startswith(p) for p in prefixes for q in other_prefixes):
                yield (("targets", name),
                       f"manages the same {what} as target {other!r}: each would change and, with prune, delete the "
                       "other's objects; give them disjoint scope prefixes or merge them", True)
                break
        claimed.setdefault(place, []).append((name, prefixes))


def _managed_place(target: Any) -> tuple[tuple | None, tuple[str, ...], str]:
    """Where a target's objects live, the name prefixes it manages there ('' = every name), and
    what to call the place in a message."""
    scope = target.scope
    place: tuple
    if target.type == "rabbitmq":
        return ("rabbitmq", _endpoint(target.url), scope.vhost), (scope.name_prefix or "",), f"vhost {scope.vhost!r}"
    if target.type == "kafka":
        servers = frozenset(s.strip().lower() for s in target.bootstrap_servers.split(","))
        return ("kafka", servers), tuple(scope.topic_prefixes) or ("",), "Kafka topics"
    if target.type == "azure-servicebus":
        place = ("azure-servicebus", target.subscription_id.lower(), target.resource_group.lower(),
                 target.namespace_name.lower(), _endpoint(target.endpoint or ""))
        return place, (scope.name_prefix or "",), f"namespace {target.namespace_name!r}"
    if target.type == "aws":
        place = ("aws", target.region, _endpoint(target.endpoint_url or ""), target.account_id)
        return place, (scope.name_prefix or "",), f"queues and topics in {target.region}"
    return None, (), ""


def _endpoint(url: str) -> tuple:
    parts = urlsplit(url.strip())
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port, parts.path.rstrip("/")


def _channel_problems(manifest, name: str, channel: Channel, base_dir: Path) -> Iterator[Finding]:
    path = ("channels", name)
    target = manifest.targets.get(channel.target)
    if target is None:
        known = ", ".join(sorted(manifest.targets)) or "none declared"
        yield path + ("target",), f"unknown target {channel.target!r} (targets: {known})", False
        return
    broker = target.type
    for prop, brokers in BROKER_SUPPORT.items():
        head, _, tail = prop.partition(".")
        if head == "filter":
            for sub_name, sub in channel.subscriptions.items():
                if sub.filter is not None and getattr(sub.filter, tail) is not None and broker not in brokers:
                    yield (path + ("subscriptions", sub_name, "filter", tail),
                           f"{broker} cannot express a {tail} filter (supported on: {', '.join(sorted(brokers))})", True)
            continue
        value = getattr(channel, head, None)
        if value is None:
            continue
        if tail:
            if head == "ordering":
                if value.mode != tail:
                    continue
            elif getattr(value, tail, None) is None:
                continue
        if broker not in brokers:
            shown = f"{head}.{tail}" if tail and head != "ordering" else head
            extra = f" mode {tail!r}" if head == "ordering" else ""
            yield (path + (head,) + ((tail,) if tail and head != "ordering" else ()),
                   f"{broker} cannot express {shown}{extra} (supported on: {', '.join(sorted(brokers))})", True)
    if channel.pattern == "competing-consumers" and broker == "kafka" and not channel.consumer_group:
        yield path + ("consumer_group",), "a competing-consumers channel on kafka needs consumer_group", True
    if channel.contract and channel.contract.schema_file:
        schema_path = Path(channel.contract.schema_file)
        if not schema_path.is_absolute():
            schema_path = base_dir / schema_path
        if not schema_path.is_file():
            yield path + ("contract", "schema"), f"schema file not found: {channel.contract.schema_file}", False


def _aws_problems(path: tuple, target, manifest) -> Iterator[Finding]:
    for qname, queue in target.queues.items():
        if queue.fifo != qname.endswith(".fifo"):
            yield path + ("queues", qname), "FIFO queue names end with .fifo, and only FIFO queue names do", True
        if queue.redrive and not queue.redrive.dead_letter_queue.startswith("arn:"):
            dlq = target.queues.get(queue.redrive.dead_letter_queue)
            if dlq is None:
                yield path + ("queues", qname, "redrive", "dead_letter_queue"), f"dead-letter queue {queue.redrive.dead_letter_queue!r} is not declared", False
            elif dlq.fifo != queue.fifo:
                yield path + ("queues", qname, "redrive", "dead_letter_queue"), "the dead-letter queue of a FIFO queue must be FIFO (and of a standard queue, standard)", False
    for tname, topic in target.topics.items():
        if topic.fifo != tname.endswith(".fifo"):
            yield path + ("topics", tname), "FIFO topic names end with .fifo, and only FIFO topic names do", True
    for sname, sub in target.subscriptions.items():
        here = path + ("subscriptions", sname)
        if not sub.topic.startswith("arn:") and sub.topic not in target.topics:
            yield here + ("topic",), f"topic {sub.topic!r} is not declared", False
        if sub.protocol == "sqs" and not sub.endpoint.startswith("arn:") and sub.endpoint not in target.queues:
            yield here + ("endpoint",), f"queue {sub.endpoint!r} is not declared", False
        if sub.dead_letter_queue and not sub.dead_letter_queue.startswith("arn:") and sub.dead_letter_queue not in target.queues:
            yield here + ("dead_letter_queue",), f"queue {sub.dead_letter_queue!r} is not declared", False


# Azure's naming rules for Microsoft.ServiceBus resources; Azure refuses other names only at apply.
_SB_ENTITY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,258}[A-Za-z0-9])?")
_SB_CHILD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,48}[A-Za-z0-9])?")
_SB_NAMESPACE = re.compile(r"[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]")


def _servicebus_problems(path: tuple, target, manifest) -> Iterator[Finding]:
    # forward_to targets may be entities compiled from channels: the compile step checks them.
    if target.namespace_settings.sku == "Basic" and target.topics:
        yield path + ("topics",), "the Basic tier has no topics; use Standard or Premium", True
    if not _SB_NAMESPACE.fullmatch(target.namespace_name):
        yield (path + ("namespace",), "Service Bus namespace names are 6 to 50 letters, digits and hyphens, "
               "starting with a letter and ending with a letter or digit", False)
    entity_rule = "1 to 260 letters, digits, '.', '-', '_' and '/', starting and ending with a letter or digit"
    child_rule = "1 to 50 letters, digits, '.', '-' and '_', starting and ending with a letter or digit"
    for section in ("queues", "topics"):
        for name in getattr(target, section):
            if not _SB_ENTITY.fullmatch(name):
                yield path + (section, name), f"Service Bus {section[:-1]} names are {entity_rule}", True
    for tname, topic in target.topics.items():
        for sname, subscription in topic.subscriptions.items():
            where = path + ("topics", tname, "subscriptions", sname)
            if not _SB_CHILD.fullmatch(sname):
                yield where, f"Service Bus subscription names are {child_rule}", True
            for rname in subscription.rules:
                if not _SB_CHILD.fullmatch(rname):
                    yield where + ("rules", rname), f"Service Bus rule names are {child_rule}", True


def _kafka_problems(path: tuple, target, manifest) -> Iterator[Finding]:
    for tname, topic in target.topics.items():
        if topic.retention is not None and "retention.ms" in topic.configs:
            yield path + ("topics", tname, "retention"), "give retention or configs.retention.ms, not both", True
        if len(tname) > 249 or not all(c.isalnum() or c in "._-" for c in tname):
            yield path + ("topics", tname), "Kafka topic names are at most 249 of [a-zA-Z0-9._-]", True
    channel_topics = {c.name or n for n, c in manifest.channels.items() if c.target in _names_of(manifest, target)}
    for sname, service in target.services.items():
        for topic in service.produces + service.consumes:
            if topic not in target.topics and topic not in channel_topics and not topic.endswith("*"):
                yield path + ("services", sname), f"service refers to topic {topic!r}, which is not declared", True


def _rabbitmq_problems(path: tuple, target, manifest) -> Iterator[Finding]:
    for section, kind in (("queues", "queue"), ("exchanges", "exchange")):
        for name in getattr(target, section):
            size = len(name.encode("utf-8"))
            if not 0 < size <= 255:  # AMQP 0-9-1 names are short strings
                yield path + (section, name), f"RabbitMQ {kind} names are 1 to 255 bytes (UTF-8); this one has {size}", True


_TARGET_CHECKS = {
    "aws": _aws_problems,
    "azure-servicebus": _servicebus_problems,
    "kafka": _kafka_problems,
    "rabbitmq": _rabbitmq_problems,
}


def _names_of(manifest, target) -> set[str]:
    return {name for name, t in manifest.targets.items() if t is target}
