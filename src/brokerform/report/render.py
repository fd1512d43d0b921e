"""Render a Report through jinja2 templates (Markdown with Mermaid, or self-contained HTML).

Templates are looked up in order: `--template-dir` (users may override any single
template), the source checkout's top-level `templates/report/` (the source of truth),
then the installed package data `brokerform/templates/report/`.

Report templates may come from a pull request and run in CI, so they render in jinja2's
sandbox, like manifest templates: no access to Python internals (`report.__class__...`),
bounded `range`, `*` and `**`, and a bounded output. Every template failure is reported
as `TEMPLATE_FILE:LINE: message`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SecurityError
from markupsafe import Markup

from brokerform.errors import BrokerformError
from brokerform.export.text import printable
from brokerform.manifest.templating import _ManifestSandbox
from brokerform.model.units import format_duration_ms, format_size_bytes
from brokerform.output.markdown import cell, code
from brokerform.report.mermaid import render_mermaid
from brokerform.report.model import Report
from brokerform.report.svg import render_svg
from brokerform.templates_path import template_dir as builtin_template_dir

TEMPLATES = {"markdown": "report.md.j2", "html": "report.html.j2"}
MAX_REPORT_CHARS = 256 * 1024 * 1024  # a report of 10,000 channels is about 30 MB of HTML


def template_search_path(template_dir: Path | None = None) -> list[Path]:
    paths = []
    if template_dir is not None:
        if not Path(template_dir).is_dir():
            raise BrokerformError(f"--template-dir {template_dir}: no such directory")
        paths.append(Path(template_dir))
    paths.append(builtin_template_dir("report"))
    return paths


def _one_line(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def md_cell(value: Any) -> str:
    """Text from the manifest, inert in Markdown: no HTML, no table break, no new line.
    Backslashes are doubled so they show as written. A `>` stays readable (`a -> b`): without
    a `<` it starts no tag, and at the start of a line `md_block` escapes it."""
    return cell(_one_line(value).replace("\\", "\\\\")).replace("&gt;", ">").strip()


_BLOCK_START = re.compile(r"[#>+*=`~_\[-]|\d+[.)]")


def md_block(value: Any) -> str:
    """`md_cell` for text that starts a line (a paragraph, a list item): a leading `#`, `-`,
    ```` ``` ````, `1.` ... would start a heading, a list or a code fence that swallows the
    rest of the report."""
    text = md_cell(value)
    match = _BLOCK_START.match(text)
    if match:
        end = match.end()
        text = text[: end - 1] + "\\" + text[end - 1:]
    return text


def md_code(value: Any) -> str:
    """A code span holding any text (backticks, pipes, line breaks)."""
    return code(_one_line(value))


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")


class _ReportLoader(jinja2.FileSystemLoader):
    """A file-system loader whose undecodable templates are located errors."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError:
            for folder in self.searchpath:
                path = Path(folder) / template
                if path.is_file():
                    raw = path.read_bytes()
                    try:
                        raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        line = raw[: exc.start].count(b"\n") + 1
                        raise BrokerformError(f"{path}:{line}: not valid UTF-8 text") from None
            raise


class _ReportSandbox(_ManifestSandbox):
    """The manifest templates' sandbox (no Python internals, bounded `*` and `**`); an unsafe
    attribute fails where it is named, not one attribute later on the undefined it returns."""

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe.")


def make_environment(template_dir: Path | None = None) -> jinja2.Environment:
    env = _ReportSandbox(
        loader=_ReportLoader([str(p) for p in template_search_path(template_dir)]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(md=md_cell, mdblock=md_block, code=md_code, slug=slug,
                       duration=format_duration_ms, size=format_size_bytes)
    return env


def render_report(report: Report, fmt: str = "markdown", template_dir: Path | None = None) -> str:
    if fmt not in TEMPLATES:
        raise BrokerformError(f"unknown report format {fmt!r} (markdown, html)")
    env = make_environment(template_dir)
    name = TEMPLATES[fmt]
    context = {"report": report, "mermaid": render_mermaid(report.diagram), "svg": Markup(render_svg(report.diagram))}
    try:
        template = env.get_template(name)
        text = _bounded(template.generate(**context))
    except BrokerformError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise BrokerformError(f"{exc.filename or exc.name}:{exc.lineno}: template error: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001 - whatever a template does wrong is the template's error
        raise BrokerformError(f"{_where(env, name)}: template error: {_describe(exc)}") from None
    return printable(re.sub(r"\n{3,}", "\n\n", text))


def _bounded(chunks: Any) -> str:
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_REPORT_CHARS:
            raise _TooLarge(f"the report passes {MAX_REPORT_CHARS:,} characters")
        parts.append(chunk)
    return "".join(parts)


class _TooLarge(Exception):
    pass


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SecurityError):
        return f"not allowed in a report template: {exc}"
    if isinstance(exc, jinja2.UndefinedError):
        return str(exc.message)
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"template {exc.name!r} not found (looked in --template-dir and the built-in templates)"
    if isinstance(exc, RecursionError):
        return "recursion too deep (a macro or an include that calls itself?)"
    if isinstance(exc, _TooLarge):
        return str(exc)
    if isinstance(exc, jinja2.TemplateError):
        return str(exc.message or exc)
    return f"{type(exc).__name__}: {exc}"


def _where(env: jinja2.Environment, name: str) -> str:
    """FILE:LINE of the innermost template frame of the exception being handled (jinja2 rewrites
    tracebacks so template frames carry the template's file name and line)."""
    files: set[str] = set()
    for folder in getattr(env.loader, "searchpath", []):
        files.update(str(p) for p in Path(folder).glob("*") if p.is_file())
    where = None
    tb = sys.exc_info()[2]
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in files or filename.endswith(".j2"):
            where = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    if where is not None:
        return where
    for folder in getattr(env.loader, "searchpath", []):
        if (Path(folder) / name).is_file():
            return str(Path(folder) / name)
    return name
