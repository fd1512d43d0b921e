"""Compile channels and native declarations into desired native resources (no SDK imports)."""

from __future__ import annotations

from brokerform.resources import Resource


def compile_target(name, target, channels, loaded) -> list[Resource]:
    return []
