"""User-facing errors: every problem carries a file, line, column and field path.

Exit codes used by every command: 0 success / no changes, 1 error or invalid input,
2 success with changes pending (`plan --detailed-exitcode`, `drift`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


class Location(NamedTuple):
    """A place in a manifest file (a NamedTuple: a big manifest has one per YAML node)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, reported as `FILE:LINE:COL: field.path: message`."""

    location: Location
    message: str
    path: str = ""

    def __str__(self) -> str:
        where = str(self.location)
        if self.path:
            return f"{where}: {self.path}: {self.message}"
        return f"{where}: {self.message}"


def format_path(path: tuple | list) -> str:
    parts: list[str] = []
    for element in path:
        if isinstance(element, int):
            parts.append(f"[{element}]")
        else:
            text = str(element)
            if not text.replace("_", "").replace("-", "").isalnum():
                text = f'"{text}"'
            parts.append(("." if parts else "") + text)
    return "".join(parts)


@dataclass
class BrokerformError(Exception):
    """Any failure we report to the user as text, without a traceback."""

    message: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        if self.problems:
            return "\n".join(str(p) for p in self.problems)
        return self.message


class ManifestError(BrokerformError):
    """The manifest could not be loaded or is invalid."""

    def __init__(self, problems: list[Problem]):
        unique = sorted(set(problems), key=lambda p: (p.location, p.path, p.message))
        super().__init__(f"{len(unique)} problem(s) in the manifest", unique)


class ProviderError(BrokerformError):
    """A broker could not be reached or refused a request."""

    def __init__(self, message: str, *, transient: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
