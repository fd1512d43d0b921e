"""Infrastructure posture per target: high availability, disaster recovery, data loss, TLS.

Each gap is both a posture item (shown per target) and a finding with a location.
"""

from __future__ import annotations

from typing import Callable

from brokerform.report.model import Finding, PostureItem, TargetPosture
from brokerform.secrets import redact

Locate = Callable[[tuple], str]
Result = tuple[list[PostureItem], list[Finding]]


class _Collector:
    def __init__(self, target: str, locate: Locate):
        self.target = target
        self.locate = locate
        self.items: list[PostureItem] = []
        self.findings: list[Finding] = []

    def ok(self, aspect: str, detail: str) -> None:
        self.items.append(PostureItem(aspect, "ok", detail))

    def info(self, aspect: str, detail: str) -> None:
        self.items.append(PostureItem(aspect, "info", detail))

    def gap(self, aspect: str, detail: str, path: tuple, severity: str = "warning", suggestion: str = "") -> None:
        self.items.append(PostureItem(aspect, "gap", detail))
        self.findings.append(
            Finding(severity, "posture", f"target {self.target}", detail, self.locate(path), suggestion)
        )


def assess_target(name: str, target, channels: dict, locate: Locate) -> tuple[TargetPosture, list[Finding]]:
    out = _Collector(name, locate)
    base = ("targets", name)
    _common(out, target, base)
    specific = {
        "rabbitmq": _rabbitmq,
        "kafka": _kafka,
        "azure-servicebus": _servicebus,
        "aws": _aws,
    }[target.type]
    specific(out, name, target, channels, base)
    for cname, channel in channels.items():
        if not channel.durable:
            out.gap("data loss", f"channel {cname} is not durable: a broker restart loses its messages",
                    ("channels", cname, "durable"), suggestion="durable: true")
    return TargetPosture(name, target.type, out.items), out.findings


def _common(out: _Collector, target, base: tuple) -> None:
    ha = target.high_availability
    if ha is None:
        out.gap("high availability", "no high_availability declared", base,
                suggestion="declare high_availability (cluster_nodes, zone_redundant)")
    if ha is None or not ha.geo_replication:
        out.gap("disaster recovery", "no geo-replication/mirroring declared: a regional outage loses the topology and data",
                base + (("high_availability",) if ha else ()), suggestion="high_availability.geo_replication")
    else:
        out.ok("disaster recovery", f"geo-replication: {ha.geo_replication}")
    if ha is not None and ha.backup:
        out.ok("disaster recovery", f"backup: {ha.backup}")
    _transport_security(out, target, base)


def _transport_security(out: _Collector, target, base: tuple) -> None:
    if target.type == "azure-servicebus":
        out.ok("security", "Service Bus endpoints require TLS")
        return
    if target.type == "aws":
        endpoint = target.endpoint_url or ""
        if endpoint.startswith("http://"):
            out.info("security", f"plain-HTTP endpoint {redact(endpoint)} (local emulator?)")
        else:
            out.ok("security", "AWS API endpoints use HTTPS")
        return
    tls = target.tls
    kafka_tls = target.type == "kafka" and str(target.security_protocol).upper() in ("SSL", "SASL_SSL")
    if kafka_tls and (tls is None or tls.enabled):
        if tls is not None and not tls.verify:
            out.gap("security", "TLS certificate verification is disabled", base + ("tls", "verify"), severity="error")
        else:
            out.ok("security", f"security_protocol {target.security_protocol}")
        return
    if tls is None or not tls.enabled:
        out.gap("security", "no TLS: credentials and messages travel in plaintext", base,
                severity="warning" if (target.environment or "") != "prod" else "error",
                suggestion="tls: {enabled: true}")
    elif not tls.verify:
        out.gap("security", "TLS certificate verification is disabled", base + ("tls", "verify"), severity="error")
    else:
        out.ok("security", "TLS with certificate verification" + (f", min {tls.min_version}" if tls.min_version else ""))


def _rabbitmq(out: _Collector, name: str, target, channels: dict, base: tuple) -> None:
    nodes = target.high_availability.cluster_nodes if target.high_availability else None
    if nodes is None or nodes < 3:
        out.gap("high availability", f"cluster_nodes = {nodes or 'not declared'}: quorum queues need 3+ nodes to survive a node loss",
                base + ("high_availability",), suggestion="cluster_nodes: 3")
    else:
        out.ok("high availability", f"{nodes}-node cluster")
    default_type = target.vhost.default_queue_type if target.vhost else None
    if channels:
        if default_type in ("quorum", "stream"):
            out.ok("high availability", f"channel queues default to {default_type} (replicated)")
        else:
            out.gap("data loss", "channel queues are classic (vhost default_queue_type is not quorum): a node failure loses their messages",
                    base + (("vhost",) if target.vhost else ()), suggestion="vhost.default_queue_type: quorum")
    for qname, queue in target.queues.items():
        explicit = "type" in queue.model_fields_set
        kind = queue.type if explicit else (default_type or "classic")
        if kind == "classic" and queue.durable:
            out.gap("data loss", f"queue {qname} is a classic queue: not replicated, one node failure loses its messages",
                    base + ("queues", qname), suggestion="type: quorum")
        elif not queue.durable:
            out.gap("data loss", f"queue {qname} is not durable", base + ("queues", qname, "durable"))
        else:
            out.ok("high availability", f"queue {qname} is a {kind} queue (replicated)")


def _kafka_min_isr(configs: dict) -> int | None:
    value = configs.get("min.insync.replicas")
    return int(value) if value is not None else None


def _kafka(out: _Collector, name: str, target, channels: dict, base: tuple) -> None:
    topics: list[tuple[str, int | None, int | None, tuple]] = []
    for cname, ch in channels.items():
        topics.append((ch.name or cname, ch.replication_factor, ch.min_insync_replicas, ("channels", cname)))
    for tname, topic in target.topics.items():
        topics.append((tname, topic.replication_factor, _kafka_min_isr(topic.configs), base + ("topics", tname)))
    for tname, rf, isr, path in topics:
        if rf is None:
            out.gap("high availability", f"topic {tname}: replication_factor not declared (broker default applies)",
                    path, suggestion="replication_factor: 3")
        elif rf < 2:
            out.gap("data loss", f"topic {tname}: replication_factor {rf}: one broker failure loses data",
                    path, severity="error" if (target.environment or "") == "prod" else "warning",
                    suggestion="replication_factor: 3")
        elif rf < 3:
            out.gap("high availability", f"topic {tname}: replication_factor {rf}: writes with acks=all stop when a broker fails",
                    path, suggestion="replication_factor: 3")
        else:
            out.ok("high availability", f"topic {tname}: replication_factor {rf}")
        if rf is not None and rf >= 2:
            if isr is None or isr < 2:
                out.gap("data loss", f"topic {tname}: min.insync.replicas {isr or 'default (1)'}: an acknowledged write can live on one replica only",
                        path, suggestion="min_insync_replicas: 2")
            elif isr >= rf:
                out.gap("high availability", f"topic {tname}: min.insync.replicas {isr} >= replication_factor {rf}: any broker failure blocks writes",
                        path, suggestion=f"min_insync_replicas: {rf - 1}")
            else:
                out.ok("data loss", f"topic {tname}: min.insync.replicas {isr}")


def _servicebus(out: _Collector, name: str, target, channels: dict, base: tuple) -> None:
    ns = target.namespace_settings
    ha = target.high_availability
    zone = ns.zone_redundant if ns.zone_redundant is not None else (ha.zone_redundant if ha else None)
    if zone:
        out.ok("high availability", "namespace is zone redundant")
    else:
        out.gap("high availability", "namespace zone redundancy not declared: a zone outage makes it unavailable",
                base + ("namespace_settings",), suggestion="namespace_settings.zone_redundant: true (Premium)")
    if ns.sku != "Premium":
        out.info("high availability", f"{ns.sku} tier: geo-replication and zone redundancy guarantees need Premium")
    else:
        out.ok("high availability", "Premium tier")


def _aws(out: _Collector, name: str, target, channels: dict, base: tuple) -> None:
    out.ok("high availability", "SQS/SNS store messages redundantly across availability zones of the region")
    for qname, queue in target.queues.items():
        if queue.sse is None or not queue.sse.enabled:
            out.gap("security", f"queue {qname}: no server-side encryption declared", base + ("queues", qname),
                    severity="info", suggestion="sse: {enabled: true}")
