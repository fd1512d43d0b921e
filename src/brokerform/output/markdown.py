"""Markdown pieces for pull-request comments and issues: text from a manifest stays inert."""

from __future__ import annotations

import html
import re

from brokerform.secrets import redact, redact_name


def cell(text: str) -> str:
    """Plain text in a table cell: names and values from a pull request must not become markup
    (`</details>`, `<img>`) in the comment, nor end the cell."""
    return html.escape(_one_line(redact(text)), quote=False).replace("|", "\\|")


def code(text: str, *, name: bool = False) -> str:
    """A code span that holds any text, backticks included (a longer fence than any run inside).
    `name`: the text is a name or address, redacted as one (see secrets.redact_name)."""
    text = _one_line(redact_name(text) if name else redact(text)).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _one_line(text: str) -> str:
    """Markdown ends a line at \\r too: any line break in a name would start a new table row."""
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
