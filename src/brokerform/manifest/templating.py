"""jinja2 rendering of manifest files, with errors located at the template line.

Templates come from pull requests and `plan` runs them in CI next to broker credentials, so
they render in jinja2's sandbox: no access to Python internals (`cycler.__init__.__globals__`
would otherwise reach `os.popen`), `range` capped at 100,000 items, and `*` / `**` refused when
the result would be absurdly large. The rendered text of one file is capped too.
"""

from __future__ import annotations

import sys
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from brokerform.errors import Location, Problem

_MARKERS = ("{{", "{%", "{#")
MAX_RENDERED_CHARS = 64 * 1024 * 1024  # a manifest of 10,000 queues is about 1 MB
MAX_POWER_BITS = 4096


class _ManifestSandbox(SandboxedEnvironment):
    """The sandbox, plus size checks on the two operators that can exhaust memory or CPU."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "**":
            _check_power(left, right)
        return super().call_binop(context, operator, left, right)


def _check_repeat(sequence: Any, times: Any) -> None:
    if isinstance(sequence, (str, list, tuple)) and isinstance(times, int) and len(sequence) * times > MAX_RENDERED_CHARS:
        raise SecurityError(f"repeating a {type(sequence).__name__} {times} times would exceed "
                            f"{MAX_RENDERED_CHARS:,} items")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 \
            and exponent * abs(base).bit_length() > MAX_POWER_BITS:
        raise SecurityError(f"{base} ** {exponent} is larger than {MAX_POWER_BITS} bits")


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
    environment = _ManifestSandbox(
        loader=jinja2.FunctionLoader(lambda name: (text, filename, lambda: True)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    try:
        return _bounded(environment.get_template(filename).generate(**context), filename)
    except TemplateProblem:
        raise
    except SecurityError as exc:
        raise TemplateProblem(Problem(Location(filename, _template_line(filename), 1),
                                      f"template: not allowed in a manifest template: {exc}")) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(Problem(Location(filename, exc.lineno or 1, 1), f"template syntax: {exc.message}")) from None
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(Problem(Location(filename, _template_line(filename), 1), f"template: {exc.message}")) from None
    except Exception as exc:  # noqa: BLE001 - any template runtime error is the user's input
        raise TemplateProblem(
            Problem(Location(filename, _template_line(filename), 1), f"template: {type(exc).__name__}: {exc}")
        ) from None


def _bounded(chunks: Any, filename: str) -> str:
    """The rendered text, refused once it passes MAX_RENDERED_CHARS (a runaway loop)."""
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_RENDERED_CHARS:
            raise TemplateProblem(Problem(Location(filename, _template_line(filename), 1),
                                          f"template: the rendered file passes {MAX_RENDERED_CHARS:,} characters"))
        parts.append(chunk)
    return "".join(parts)


def _template_line(filename: str) -> int:
    tb = sys.exc_info()[2]
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
