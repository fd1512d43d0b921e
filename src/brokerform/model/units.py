"""Units people write in manifests (`15m`, `7d`, `256KiB`) and their canonical numbers.

Durations are kept as integer milliseconds and sizes as integer bytes, so that the
planner compares numbers, never spellings.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_DURATION_UNITS_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")

_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)\s*$", re.IGNORECASE)


def parse_duration_ms(value: Any) -> int:
    """Parse `90s`, `15m`, `7d`, `1h30m` or a bare integer of seconds into milliseconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 15m, 7d")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return value * 1000
    if isinstance(value, str):
        ms = _duration_text_ms(value)
        if ms is not None:
            return ms
    raise ValueError(f"expected a duration like 500ms, 30s, 15m, 12h or 7d, got {value!r}")


@functools.lru_cache(maxsize=4096)
def _duration_text_ms(value: str) -> int | None:
    """Cached: a large manifest repeats the same few spellings (`1d`, `30s`) thousands of times."""
    text = value.strip().lower()
    match = _DURATION_RE.match(text)
    if match:
        return int(float(match.group(1)) * _DURATION_UNITS_MS[match.group(2)])
    parts = _DURATION_PART_RE.findall(text)
    if parts and "".join(n + u for n, u in parts) == text.replace(" ", ""):
        return sum(int(float(n) * _DURATION_UNITS_MS[u]) for n, u in parts)
    return None


def parse_size_bytes(value: Any) -> int:
    """Parse `256KiB`, `1MiB`, `10MB` or a bare integer of bytes into bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size like 256KiB or 1MiB")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if match:
            return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])
    raise ValueError(f"expected a size like 512B, 256KiB, 1MiB or 10GB, got {value!r}")


def format_duration_ms(ms: int) -> str:
    """Render milliseconds in the largest unit that divides them exactly."""
    for unit in ("w", "d", "h", "m", "s"):
        factor = _DURATION_UNITS_MS[unit]
        if ms and ms % factor == 0:
            return f"{ms // factor}{unit}"
    return f"{ms}ms"


def format_size_bytes(size: int) -> str:
    """Render bytes in the largest binary unit that divides them exactly."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?(ms|s|m|h|d|w))+\s*$"},
        {"type": "integer", "minimum": 0, "description": "seconds"},
    ],
    "description": "A duration: 500ms, 30s, 15m, 12h, 7d, 2w or 1h30m (a bare integer is seconds).",
}
_SIZE_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*([kKmMgGtT][iI]?[bB]|[bB])\s*$"},
        {"type": "integer", "minimum": 0, "description": "bytes"},
    ],
    "description": "A size: 512B, 256KiB, 1MiB, 10MB (a bare integer is bytes).",
}

Duration = Annotated[
    int,
    BeforeValidator(parse_duration_ms),
    PlainSerializer(format_duration_ms, return_type=str, when_used="json"),
    WithJsonSchema(_DURATION_SCHEMA),
]
"""A duration in milliseconds, written with units in YAML."""

Size = Annotated[
    int,
    BeforeValidator(parse_size_bytes),
    PlainSerializer(format_size_bytes, return_type=str, when_used="json"),
    WithJsonSchema(_SIZE_SCHEMA),
]
"""A size in bytes, written with units in YAML."""
