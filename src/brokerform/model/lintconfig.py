"""Lint configuration that can live in the manifest or in `.brokerform.yaml`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from brokerform.model.base import StrictModel

Severity = Literal["error", "warning", "info", "off"]


class LintRuleSettings(StrictModel):
    disable: list[str] = Field(default_factory=list, description="Rule ids to turn off.")
    enable: list[str] = Field(default_factory=list, description="Rule ids to turn on (opt-in rules).")
    severity: dict[str, Severity] = Field(default_factory=dict, description="Rule id -> severity.")
    options: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Rule id -> options.")


class LintConfig(LintRuleSettings):
    environments: dict[str, LintRuleSettings] = Field(
        default_factory=dict, description="Overrides that apply only with --env NAME."
    )
