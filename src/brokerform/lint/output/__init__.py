"""Renderers of lint results: text, json, sarif, github. Each exposes `render(result, **context) -> str`."""

from __future__ import annotations

import importlib

FORMATS = ("text", "json", "sarif", "github")


def render(fmt: str, result, **context) -> str:
    module = importlib.import_module(f"brokerform.lint.output.{fmt}_format")
    return module.render(result, **context)
