"""Render a Report through jinja2 templates (Markdown with Mermaid, or self-contained HTML).

Templates are looked up in order: `--template-dir` (users may override any single
template), the source checkout's top-level `templates/report/` (the source of truth),
then the installed package data `brokerform/templates/report/`.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from markupsafe import Markup

from brokerform.errors import BrokerformError
from brokerform.model.units import format_duration_ms, format_size_bytes
from brokerform.report.mermaid import render_mermaid
from brokerform.report.model import Report
from brokerform.templates_path import template_dir as builtin_template_dir
from brokerform.report.svg import render_svg

TEMPLATES = {"markdown": "report.md.j2", "html": "report.html.j2"}


def template_search_path(template_dir: Path | None = None) -> list[Path]:
    paths = []
    if template_dir is not None:
        if not Path(template_dir).is_dir():
            raise BrokerformError(f"--template-dir {template_dir}: no such directory")
        paths.append(Path(template_dir))
    paths.append(builtin_template_dir("report"))
    return paths


def md_cell(value) -> str:
    """Make a value safe inside a Markdown table cell."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")


def make_environment(template_dir: Path | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in template_search_path(template_dir)]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(md=md_cell, slug=slug, duration=format_duration_ms, size=format_size_bytes)
    return env


def render_report(report: Report, fmt: str = "markdown", template_dir: Path | None = None) -> str:
    if fmt not in TEMPLATES:
        raise BrokerformError(f"unknown report format {fmt!r} (markdown, html)")
    env = make_environment(template_dir)
    try:
        template = env.get_template(TEMPLATES[fmt])
        text = template.render(
            report=report,
            mermaid=render_mermaid(report.diagram),
            svg=Markup(render_svg(report.diagram)),
        )
    except jinja2.TemplateSyntaxError as exc:
        raise BrokerformError(f"{exc.filename or exc.name}:{exc.lineno}: template error: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise BrokerformError(f"{TEMPLATES[fmt]}: template error: {exc}") from None
    return re.sub(r"\n{3,}", "\n\n", text)
