"""Shared pydantic configuration and small annotated types for manifest models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema

from brokerform.secrets import is_reference, interpolate


class StrictModel(BaseModel):
    """Every manifest model: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=False)


def _check_secret_reference(value: str) -> str:
    if not is_reference(value):
        raise ValueError(
            "a literal secret is not allowed here; use a reference like ${env:NAME} or ${file:path}"
        )
    return value


SecretRef = Annotated[
    str,
    AfterValidator(_check_secret_reference),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\$\{(env|file):[^}:]+(:-[^}]*)?\}$",
            "description": "A secret reference: ${env:NAME}, ${env:NAME:-default} or ${file:path}.",
        }
    ),
]
"""A field that only accepts a reference to a secret, never its value."""


def _interpolate(value: str, info: ValidationInfo) -> str:
    base_dir = (info.context or {}).get("base_dir") if info is not None else None
    return interpolate(value, base_dir)


Interpolated = Annotated[str, AfterValidator(_interpolate)]
"""A non-secret string in which `${env:NAME:-default}` references are expanded at load time."""

Labels = dict[str, str]

ResourceName = Annotated[str, Field(min_length=1, max_length=255)]


class Meta(StrictModel):
    """Ownership metadata that reports and lint rules read."""

    owner: str | None = Field(default=None, description="Team that owns this resource or channel.")
    contact: str | None = Field(default=None, description="Where to reach the owner (email, chat channel).")
    description: str | None = None
    labels: Labels = Field(default_factory=dict)


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
