"""What every Pulumi export shares: the statement model and rendering the project files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from brokerform.export.text import printable
from brokerform.templates_path import template_dir

TEMPLATE_FILES = {"Pulumi.yaml": "Pulumi.yaml.j2", "__main__.py": "__main__.py.j2",
                  "requirements.txt": "requirements.txt.j2"}


@dataclass
class Statement:
    """One resource declaration in the generated program."""

    var: str
    type: str
    logical_name: str
    args: list[tuple[str, str]] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    comment: str = ""
    notes: list[str] = field(default_factory=list)


def project_name(text: str, fallback: str) -> str:
    """A Pulumi project name: letters, digits, `_`, `.` and `-`."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or fallback


_UNSAFE_IN_COMMENTS = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


def comment_text(text: str) -> str:
    """Text for a docstring or a `#` comment of the program and of Pulumi.yaml: one line, with
    backslashes, double quotes and control characters escaped. A target whose name holds three
    double quotes, a line break and `import os` must not end the docstring and add code."""
    text = printable(text).replace("\\", "\\\\").replace('"', '\\"')
    return _UNSAFE_IN_COMMENTS.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                                   else f"\\u{ord(m.group()):04x}", text)


def render_project(templates: str, context: dict[str, Any], out_dir: Path) -> list[Path]:
    """Render Pulumi.yaml, __main__.py and requirements.txt from templates/<templates>."""
    import jinja2

    context = {**context, "source": comment_text(str(context.get("source", ""))),
               "target_name": comment_text(str(context.get("target_name", ""))),
               "statements": [replace(st, comment=comment_text(st.comment), notes=[comment_text(n) for n in st.notes])
                              for st in context.get("statements", [])]}

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir(templates))),
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                     trim_blocks=True, lstrip_blocks=True, autoescape=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, template in TEMPLATE_FILES.items():
        path = out_dir / filename
        path.write_text(environment.get_template(template).render(**context), encoding="utf-8")
        written.append(path)
    return written
