"""jinja2 rendering of manifest files, with errors located at the template line."""

from __future__ import annotations

import sys
from typing import Any

import jinja2

from brokerform.errors import Location, Problem

_MARKERS = ("{{", "{%", "{#")


class TemplateProblem(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def needs_rendering(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


def render(text: str, filename: str, context: dict[str, Any]) -> str:
    """Render a manifest file; undefined variables are errors, not empty strings."""
    if not needs_rendering(text):
        return text
    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (text, filename, lambda: True)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    try:
        return environment.get_template(filename).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(Problem(Location(filename, exc.lineno or 1, 1), f"template syntax: {exc.message}")) from None
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(Problem(Location(filename, _template_line(filename), 1), f"template: {exc.message}")) from None
    except Exception as exc:  # noqa: BLE001 - any template runtime error is the user's input
        raise TemplateProblem(
            Problem(Location(filename, _template_line(filename), 1), f"template: {type(exc).__name__}: {exc}")
        ) from None


def _template_line(filename: str) -> int:
    tb = sys.exc_info()[2]
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
