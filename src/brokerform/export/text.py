"""Text every output can encode.

File names that are not valid UTF-8 reach Python as lone surrogates (`m\\udcff.yaml`), and so
can `"\\udcff"` escapes in YAML or JSON input. They cannot be written as UTF-8; printed raw, they
put invalid bytes into a report. Outputs show them escaped instead: `m\\xff.yaml`.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with undecodable file-name bytes as `\\xNN` and other lone surrogates as `\\udNNN`."""
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    point = ord(match.group())
    return f"\\x{point - 0xDC00:02x}" if 0xDC80 <= point <= 0xDCFF else f"\\u{point:04x}"


def printable_data(value: Any) -> Any:
    """`printable` over every string (keys too) of JSON-like data, before it is serialised."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_data(k): printable_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [printable_data(v) for v in value]
    return value
