"""Broker fit: score a channel's declared requirements against the capability matrix.

Each declared requirement is one check per broker: `fits` (2 points), `partial`
(1 point: possible with configuration, a higher tier or extra work) or `misfit` (0).
A broker fits a channel when it has no misfit; alternatives are the brokers that fit
and score higher than the chosen one.
"""

from __future__ import annotations

from typing import Any

from brokerform.model.units import format_duration_ms, format_size_bytes
from brokerform.report.capabilities import BROKERS, broker_label, framework_score
from brokerform.report.model import BrokerScore, ChannelFit, FitCheck

POINTS = {"fits": 2, "partial": 1, "misfit": 0}
STATUS_BY_SCORE = {2: "fits", 1: "partial", 0: "misfit"}


def describe_requirements(channel) -> list[str]:
    """Human-readable `name: value` list of what the channel declared."""
    req = channel.requirements
    out = [f"pattern: {channel.pattern}"]
    if req is None:
        return out
    if req.delivery:
        out.append(f"delivery: {req.delivery}")
    if req.throughput is not None:
        out.append(f"throughput: {_rate(req.throughput)}")
    if req.message_size is not None:
        out.append(f"message size: {format_size_bytes(req.message_size)}")
    if req.ordering:
        out.append(f"ordering: {req.ordering}")
    if req.retention is not None:
        out.append(f"retention: {format_duration_ms(req.retention)}")
    if req.replay is not None:
        out.append(f"replay: {'yes' if req.replay else 'no'}")
    if req.latency is not None:
        out.append(f"latency: {format_duration_ms(req.latency)}")
    if req.idempotent_consumers is not None:
        out.append(f"idempotent consumers: {'yes' if req.idempotent_consumers else 'no'}")
    return out


def _rate(value: float) -> str:
    return f"{value:g} msg/s"


def _scored(entry: dict[str, Any], dimension: str, required: str) -> FitCheck:
    status = STATUS_BY_SCORE[int(entry.get("score", 0))]
    return FitCheck(dimension, required, status, entry.get("how", entry.get("note", "")), entry.get("source", ""))


def check_pattern(caps: dict[str, Any], pattern: str) -> FitCheck:
    return _scored(caps["patterns"].get(pattern, {"score": 0, "how": "not supported"}), "pattern", pattern)


def check_delivery(caps: dict[str, Any], delivery: str, idempotent: bool | None) -> FitCheck:
    check = _scored(caps["delivery"][delivery], "delivery", delivery)
    if delivery == "exactly-once" and check.status == "misfit" and idempotent:
        check.status = "partial"
        check.detail += " (declared idempotent consumers make at-least-once effectively exactly-once)"
    return check


def check_ordering(caps: dict[str, Any], ordering: str) -> FitCheck | None:
    if ordering == "none":
        return None
    return _scored(caps["ordering"][ordering], "ordering", ordering)


def check_replay(caps: dict[str, Any], replay: bool) -> FitCheck | None:
    if not replay:
        return None
    return _scored(caps["replay"], "replay", "yes")


def check_retention(caps: dict[str, Any], retention_ms: int) -> FitCheck:
    entry = caps["retention"]
    required = format_duration_ms(retention_ms)
    limit = entry.get("max_ms")
    if limit is not None and retention_ms > limit:
        return FitCheck("retention", required, "misfit", f"at most {format_duration_ms(limit)}", entry.get("source", ""))
    return _scored(entry, "retention", required)


def check_message_size(caps: dict[str, Any], size: int) -> FitCheck:
    entry = caps["max_message_size"]
    required = format_size_bytes(size)
    default, limit, source = entry.get("default"), entry.get("limit"), entry.get("source", "")
    if limit is not None and size > limit:
        return FitCheck("message size", required, "misfit", f"limit {format_size_bytes(limit)}; {entry.get('note', '')}".strip("; "), source)
    if default is not None and size > default:
        return FitCheck("message size", required, "partial", f"above the default {format_size_bytes(default)}; {entry.get('note', '')}".strip("; "), source)
    return FitCheck("message size", required, "fits", f"default limit {format_size_bytes(default)}" if default else "no limit", source)


def check_throughput(caps: dict[str, Any], rate: float, ordering: str | None) -> FitCheck:
    entry = caps["throughput"]
    required = _rate(rate)
    comfortable = entry.get("comfortable_per_entity")
    maximum = entry.get("max_per_entity")
    fifo = entry.get("fifo_per_entity")
    source = entry.get("source", "")
    if fifo is not None and ordering in ("per-key", "global") and rate > fifo:
        return FitCheck("throughput", required, "partial", f"ordered (FIFO) entities take {fifo} msg/s without batching", source)
    if comfortable is None or rate <= comfortable:
        return FitCheck("throughput", required, "fits", f"comfortable up to {comfortable:,} msg/s per entity" if comfortable else "scales out", source)
    if maximum is None or rate <= maximum:
        return FitCheck("throughput", required, "partial", entry.get("note", "needs sharding"), source)
    return FitCheck("throughput", required, "misfit", f"above {maximum:,} msg/s per entity; {entry.get('note', '')}", source)


def check_latency(caps: dict[str, Any], budget_ms: int) -> FitCheck:
    entry = caps["latency_ms"]
    typical = int(entry["typical"])
    required = format_duration_ms(budget_ms)
    detail = f"typical {typical}ms ({entry.get('note', '')})".replace(" ()", "")
    if budget_ms >= typical * 10:
        status = "fits"
    elif budget_ms >= typical:
        status = "partial"
    else:
        status = "misfit"
    return FitCheck("latency", required, status, detail, entry.get("source", ""))


def score_broker(matrix: dict[str, Any], broker: str, channel) -> BrokerScore:
    """All checks of one channel against one broker."""
    caps = matrix["brokers"][broker]
    req = channel.requirements
    checks: list[FitCheck | None] = [check_pattern(caps, channel.pattern)]
    if req is not None:
        if req.delivery:
            checks.append(check_delivery(caps, req.delivery, req.idempotent_consumers))
        if req.ordering:
            checks.append(check_ordering(caps, req.ordering))
        if req.replay is not None:
            checks.append(check_replay(caps, req.replay))
        if req.retention is not None:
            checks.append(check_retention(caps, req.retention))
        if req.message_size is not None:
            checks.append(check_message_size(caps, req.message_size))
        if req.throughput is not None:
            checks.append(check_throughput(caps, req.throughput, req.ordering))
        if req.latency is not None:
            checks.append(check_latency(caps, req.latency))
    done = [c for c in checks if c is not None]
    score = sum(POINTS[c.status] for c in done)
    return BrokerScore(
        broker=broker,
        label=broker_label(matrix, broker),
        score=score,
        max_score=2 * len(done),
        misfits=sum(c.status == "misfit" for c in done),
        partials=sum(c.status == "partial" for c in done),
        checks=done,
    )


def _management_tiebreak(matrix: dict[str, Any], broker: str) -> int:
    return framework_score(matrix, broker, "management")


def score_channel(matrix: dict[str, Any], name: str, channel, broker: str) -> ChannelFit:
    """Score every broker; the chosen broker first, the others best first."""
    scores = {b: score_broker(matrix, b, channel) for b in BROKERS}
    ranked = sorted(
        (s for b, s in scores.items() if b != broker),
        key=lambda s: (s.misfits, -s.score, -_management_tiebreak(matrix, s.broker), BROKERS.index(s.broker)),
    )
    chosen = scores[broker]
    alternatives = [s.label for s in ranked if s.fits and s.score > chosen.score]
    if chosen.misfits:
        verdict = "misfit"
    elif chosen.partials:
        verdict = "partial"
    else:
        verdict = "fits"
    if channel.requirements is None:
        verdict = "no requirements"
    return ChannelFit(name, broker, describe_requirements(channel), [chosen, *ranked], verdict, alternatives)
