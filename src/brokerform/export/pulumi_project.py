"""What every Pulumi export shares: the statement model and rendering the project files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def render_project(templates: str, context: dict[str, Any], out_dir: Path) -> list[Path]:
    """Render Pulumi.yaml, __main__.py and requirements.txt from templates/<templates>."""
    import jinja2

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
