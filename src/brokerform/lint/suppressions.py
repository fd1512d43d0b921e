"""Inline suppressions: `# brokerform:ignore BF201[,BF202] -- reason`.

Comments are not in the YAML data, so the raw file text is scanned. A comment at the end
of a line covers that line; a comment alone on its line covers the next content line.
A finding is covered when the line is its own line or the key line of its resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "brokerform:ignore"
_DIRECTIVE_RE = re.compile(r"#\s*brokerform:ignore\b(?P<rest>.*)$")
_TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


@dataclass
class Suppression:
    file: str
    line: int  # where the comment is
    column: int
    covers: int  # the line it applies to
    tokens: list[str]
    reason: str
    used: set[str] = field(default_factory=set)


def parse_suppressions(file: str, text: str) -> list[Suppression]:
    lines = text.splitlines()
    found: list[Suppression] = []
    for index, line in enumerate(lines):
        if MARKER not in line:
            continue
        start = comment_start(line)
        match = _DIRECTIVE_RE.match(line, start) if start is not None else None
        if match is None:
            continue
        rest = match.group("rest")
        ids_part, sep, reason = rest.partition("--")
        tokens = _TOKEN_RE.findall(ids_part.replace(",", " "))
        column = start + 1
        before = line[:start].strip()
        covers = index + 1 if before else _next_content_line(lines, index)
        found.append(Suppression(file, index + 1, column, covers, tokens, reason.strip() if sep else ""))
    return found


def comment_start(line: str) -> int | None:
    """Index of the `#` that starts a YAML comment on this line (not one inside quotes)."""
    quote: str | None = None
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            if quote == "'" and char == "'" and line[index + 1:index + 2] == "'":
                index += 2
                continue
            if quote == '"' and char == "\\":
                index += 2
                continue
            if char == quote:
                quote = None
        elif char in "'\"" and (index == 0 or line[index - 1] in " \t:[{,-"):
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return index
        index += 1
    return None


def _next_content_line(lines: list[str], index: int) -> int:
    for following in range(index + 1, len(lines)):
        stripped = lines[following].strip()
        if stripped and not stripped.startswith("#"):
            return following + 1
    return index + 1


def read_suppressions(files: list[str]) -> list[Suppression]:
    out: list[Suppression] = []
    for file in files:
        try:
            text = Path(file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        out.extend(parse_suppressions(file, text))
    return out
