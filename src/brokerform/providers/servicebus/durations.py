"""ISO 8601 durations as ARM writes them (.NET TimeSpan) <-> brokerform's integer milliseconds.

ARM prints `PT1M`, `P14D` or `P10675199DT2H48M5.4775807S` (TimeSpan.MaxValue, "never");
the SDK sends its own spelling (`PT01M00S`). We compare milliseconds, and treat anything
within 1 ms of TimeSpan.MaxValue as the maximum, because a round trip through a float or
a timedelta loses the last ticks.
"""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal

TIMESPAN_MAX_MS = 922_337_203_685_477
TIMESPAN_MAX_ISO = "P10675199DT2H48M5.4775807S"

_ISO_RE = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_MS = {"days": 86_400_000, "hours": 3_600_000, "minutes": 60_000}


def clamp_max(ms: int) -> int:
    """Snap values within 1 ms of TimeSpan.MaxValue (or above it) to the maximum."""
    return TIMESPAN_MAX_MS if ms >= TIMESPAN_MAX_MS - 1 else ms


def iso_to_ms(value: str | _dt.timedelta | int | float) -> int:
    """Parse an ISO 8601 duration (or a timedelta) into whole milliseconds."""
    if isinstance(value, _dt.timedelta):
        return clamp_max(value.days * 86_400_000 + value.seconds * 1000 + value.microseconds // 1000)
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        return clamp_max(int(value))
    match = _ISO_RE.match(value.strip().upper())
    if not match or value.strip().upper() in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 duration: {value!r}")
    parts = match.groupdict()
    days = int(parts["years"] or 0) * 365 + int(parts["months"] or 0) * 30 + int(parts["weeks"] or 0) * 7
    days += int(parts["days"] or 0)
    ms = days * _MS["days"] + int(parts["hours"] or 0) * _MS["hours"] + int(parts["minutes"] or 0) * _MS["minutes"]
    ms += int(Decimal(parts["seconds"] or "0") * 1000)
    return clamp_max(ms)


def ms_to_iso(ms: int) -> str:
    """Milliseconds as the shortest ISO 8601 duration; the maximum as TimeSpan.MaxValue exactly."""
    ms = clamp_max(int(ms))
    if ms == TIMESPAN_MAX_MS:
        return TIMESPAN_MAX_ISO
    if ms == 0:
        return "PT0S"
    days, rest = divmod(ms, _MS["days"])
    hours, rest = divmod(rest, _MS["hours"])
    minutes, rest = divmod(rest, _MS["minutes"])
    seconds, millis = divmod(rest, 1000)
    out = "P" + (f"{days}D" if days else "")
    if hours or minutes or seconds or millis:
        out += "T" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
        if seconds or millis:
            out += f"{seconds}.{millis:03d}".rstrip("0").rstrip(".") + "S"
    return out
