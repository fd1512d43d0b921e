"""Typed rule options: what each option accepts, checked when the configuration is loaded.

A rule declares `options = {"max_queues": count(500), "max_message_size": size("256KiB")}`.
The configuration loader turns every configured value into the option's canonical value
(sizes in bytes, durations in milliseconds) or reports a located error, so a rule never
sees a value it cannot use: a bad value is the user's mistake, not a crashed rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from brokerform.manifest.validation import described
from brokerform.model.units import parse_duration_ms, parse_size_bytes


class OptionValueError(ValueError):
    """A configured value an option does not accept; `at` is a path inside the value (a list index)."""

    def __init__(self, message: str, at: tuple = ()):
        super().__init__(message)
        self.at = at


@dataclass(frozen=True)
class Option:
    """One rule option: its default (as users write it), what it accepts, and its parser.

    `parse` returns the canonical value or raises ValueError with the whole message
    ("expected ..., got ...").
    """

    default: Any
    accepts: str
    parse: Callable[[Any], Any]

    def value(self, raw: Any) -> Any:
        return self.parse(raw)

    @property
    def default_value(self) -> Any:
        return self.parse(self.default)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def count(default: int, *, minimum: int = 1) -> Option:
    """A whole number of things, at least `minimum` (a threshold of 0 things usually makes no sense)."""
    accepts = f"an integer >= {minimum}"

    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise OptionValueError(f"expected {accepts}, got {described(value)}")
        return value

    return Option(default, accepts, parse)


def rate(default: float) -> Option:
    """A number above zero (messages per second and the like); whole or decimal."""
    accepts = "a number > 0"

    def parse(value: Any) -> float:
        if not _is_number(value) or not math.isfinite(value) or value <= 0:
            raise OptionValueError(f"expected {accepts}, got {described(value)}")
        return value

    return Option(default, accepts, parse)


def size(default: str) -> Option:
    """A size above zero with units (`256KiB`, `10MB`; a bare integer is bytes); the value is in bytes."""
    return _positive_with_units(default, "a size > 0 like 256KiB or 10MB", parse_size_bytes)


def duration(default: str) -> Option:
    """A duration above zero with units (`10s`, `5m`; a bare integer is seconds); the value is in ms."""
    return _positive_with_units(default, "a duration > 0 like 30s or 5m", parse_duration_ms)


def _positive_with_units(default: str, accepts: str, parse_units: Callable[[Any], int]) -> Option:
    def parse(value: Any) -> int:
        if _is_number(value) and value <= 0:
            raise OptionValueError(f"expected {accepts}, got {described(value)}")
        parsed = parse_units(value)  # ValueError: "expected a size like ..., got '12 parsecs'"
        if parsed <= 0:
            raise OptionValueError(f"expected {accepts}, got {described(value)}")
        return parsed

    return Option(default, accepts, parse)


def strings(default: list[str]) -> Option:
    """A list of non-empty strings (property names, ...)."""
    accepts = "a list of strings"

    def parse(value: Any) -> list[str]:
        if not isinstance(value, list):
            raise OptionValueError(f"expected {accepts}, got {described(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise OptionValueError(f"expected a non-empty string, got {described(item)}", at=(index,))
        return list(value)

    return Option(list(default), accepts, parse)


def flag(default: bool) -> Option:
    accepts = "true or false"

    def parse(value: Any) -> bool:
        if not isinstance(value, bool):
            raise OptionValueError(f"expected {accepts}, got {described(value)}")
        return value

    return Option(default, accepts, parse)


def text(default: str) -> Option:
    accepts = "a string"

    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise OptionValueError(f"expected {accepts}, got {described(value)}")
        return value

    return Option(default, accepts, parse)


def as_option(declared: Any) -> Option:
    """A rule's declared option; a plain default (a rule written before options were typed) is
    checked by its kind: a boolean, a number >= 0, a list of strings or a string."""
    if isinstance(declared, Option):
        return declared
    if isinstance(declared, bool):
        return flag(declared)
    if _is_number(declared):
        return Option(declared, "a number >= 0", _plain_number)
    if isinstance(declared, list):
        return strings(declared)
    return text(str(declared))


def _plain_number(value: Any) -> Any:
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise OptionValueError(f"expected a number >= 0, got {described(value)}")
    return value
