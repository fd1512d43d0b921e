"""Lint configuration that can live in the manifest (`lint:`) or in `.brokerform.yaml`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from brokerform.model.base import StrictModel

Severity = Literal["error", "warning", "info", "off"]


class LintRuleSettings(StrictModel):
    disable: list[str] = Field(default_factory=list, description="Rule ids (or names) to turn off.")
    enable: list[str] = Field(default_factory=list, description="Rule ids (or names) to turn on (opt-in rules).")
    severity: dict[str, Severity] = Field(
        default_factory=dict, description="Rule id -> severity (error, warning, info, or off)."
    )
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Rule id -> options, e.g. {BF401: {max_queues: 200}}."
    )


class LintConfig(LintRuleSettings):
    environments: dict[str, LintRuleSettings] = Field(
        default_factory=dict, description="Overrides that apply only with --env NAME."
    )
    production_environments: list[str] | None = Field(
        default=None,
        description="Environment names treated as production by environment-aware rules "
        "(default: prod, production, prd, live).",
    )
    development_environments: list[str] | None = Field(
        default=None,
        description="Environment names treated as development (default: dev, development, local, test, ci, sandbox).",
    )
