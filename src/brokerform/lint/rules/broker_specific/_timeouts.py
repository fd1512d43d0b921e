"""Per-message processing time versus the broker's lock/visibility timeout."""

from __future__ import annotations

from brokerform.lint.model import Issue
from brokerform.model.units import format_duration_ms


def ack_timeout_issues(ctx, broker: str, default_ms: int, what: str):
    """Channels whose ack timeout (or the broker default) is shorter than the declared processing time."""
    for name, channel, _ in ctx.channels(broker):
        req = channel.requirements
        if req is None or req.processing_time is None:
            continue
        effective = channel.ack_timeout if channel.ack_timeout is not None else default_ms
        if effective < req.processing_time:
            where = ("channels", name, "ack_timeout") if channel.ack_timeout is not None else ("channels", name)
            origin = "ack_timeout" if channel.ack_timeout is not None else f"the default {what}"
            yield Issue(where,
                        f"{origin} {format_duration_ms(effective)} is shorter than the processing time "
                        f"{format_duration_ms(req.processing_time)}: messages are redelivered while being processed",
                        resource=("channels", name))
