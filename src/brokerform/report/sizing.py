"""Capacity sizing per channel, with the formula shown so reviewers can check it.

storage  = throughput x message size x retention x copies
           (copies: one per subscription on brokers that copy messages per subscriber,
            x replication factor on Kafka)
consumers = ceil(throughput x processing time)            (Little's law)
partitions = max(consumers, ceil(throughput / per-partition rate))   (Kafka)
"""

from __future__ import annotations

import math
from typing import Any

from brokerform.model.units import format_duration_ms, format_size_bytes
from brokerform.report.model import Finding, SizingRow

# Default retention when the channel declares none: what the broker keeps by default.
DEFAULT_RETENTION_MS = {
    "kafka": 7 * 86_400_000,  # retention.ms default: 7 days
    "aws": 4 * 86_400_000,  # SQS default: 4 days
}
COPYING_BROKERS = {"rabbitmq", "azure-servicebus", "aws"}  # each subscription holds its own copy


def human_bytes(value: float) -> str:
    """Bytes in the largest binary unit with at most one decimal (for readers, not for diffs)."""
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= factor:
            return f"{value / factor:.1f} {unit}"
    return f"{int(value)} B"


def retention_of(channel, broker: str) -> tuple[int | None, str]:
    """The retention used for sizing and where it came from."""
    req = channel.requirements
    if req is not None and req.retention is not None:
        return req.retention, "requirements.retention"
    if channel.ttl is not None:
        return channel.ttl, "ttl"
    if broker in DEFAULT_RETENTION_MS:
        return DEFAULT_RETENTION_MS[broker], f"{broker} default"
    return None, ""


def copies_of(channel, broker: str) -> tuple[int, str]:
    subscriptions = len(channel.subscriptions) if channel.pattern == "pubsub" else 0
    if broker == "kafka":
        replicas = channel.replication_factor or 1
        return replicas, f"{replicas} replica(s)"
    if broker in COPYING_BROKERS and subscriptions > 1:
        return subscriptions, f"{subscriptions} subscriptions"
    return 1, ""


def size_channel(name: str, channel, broker: str, matrix: dict[str, Any]) -> tuple[SizingRow, list[Finding]]:
    req = channel.requirements
    rate = req.throughput if req else None
    size = req.message_size if req else None
    if size is None and channel.contract and channel.contract.max_message_size:
        size = channel.contract.max_message_size
    retention, retention_from = retention_of(channel, broker)
    copies, copies_label = copies_of(channel, broker)
    notes: list[str] = []
    findings: list[Finding] = []

    storage_bytes: int | None = None
    if rate is not None and size is not None and retention is not None:
        storage_bytes = int(rate * size * (retention / 1000) * copies)
        formula = f"{rate:g} msg/s × {format_size_bytes(size)} × {format_duration_ms(retention)}"
        if copies > 1:
            formula += f" × {copies} ({copies_label})"
        storage = human_bytes(storage_bytes)
        formula += f" = {storage}"
        if broker != "kafka":
            notes.append("worst case: consumers stopped for the whole retention")
    else:
        missing = [n for n, v in (("throughput", rate), ("message_size", size), ("retention", retention)) if v is None]
        storage = "n/a"
        formula = "needs " + ", ".join(missing)

    consumers = partitions = None
    consumers_formula = partitions_formula = ""
    processing = req.processing_time if req else None
    if rate is not None and processing is not None:
        consumers = max(1, math.ceil(rate * processing / 1000))
        consumers_formula = f"⌈{rate:g} msg/s × {format_duration_ms(processing)}⌉ = {consumers}"
        declared = req.consumers
        if declared is not None and declared < consumers:
            findings.append(Finding(
                "warning", "sizing", f"channel {name}",
                f"{declared} consumer(s) declared, {consumers} needed to keep up with {rate:g} msg/s "
                f"at {format_duration_ms(processing)} per message",
                suggestion=f"run at least {consumers} consumers",
            ))
    elif rate is not None:
        consumers_formula = "needs requirements.processing_time"

    if broker == "kafka" and rate is not None:
        per_partition = int(matrix["brokers"]["kafka"]["throughput"].get("per_partition") or 5000)
        by_rate = max(1, math.ceil(rate / per_partition))
        partitions = max(by_rate, consumers or 1)
        partitions_formula = f"max(⌈{rate:g} / {per_partition:,}⌉, consumers {consumers or 1}) = {partitions}"
        if channel.partitions is not None and channel.partitions < partitions:
            findings.append(Finding(
                "warning", "sizing", f"channel {name}",
                f"{channel.partitions} partition(s) declared, {partitions} suggested; consumers beyond the "
                "partition count stay idle",
                suggestion=f"partitions: {partitions}",
            ))

    row = SizingRow(
        channel=name,
        broker=broker,
        throughput=f"{rate:g} msg/s" if rate is not None else "n/a",
        message_size=format_size_bytes(size) if size is not None else "n/a",
        retention=f"{format_duration_ms(retention)} ({retention_from})" if retention is not None else "n/a",
        copies=copies,
        storage=storage,
        storage_bytes=storage_bytes,
        storage_formula=formula,
        consumers=consumers,
        consumers_formula=consumers_formula,
        partitions=partitions,
        partitions_formula=partitions_formula,
        notes=notes,
    )
    return row, findings
