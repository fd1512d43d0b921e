"""Load the broker capability matrix (`brokerform/data/broker-capabilities.yaml`).

`report --capabilities FILE` lets organisations keep their own scores, so the file is
validated like a manifest: every problem is reported as `FILE:LINE:COL: field.path: message`
(a score that is not 0, 1 or 2, a mapping where a number belongs, a level word that `levels`
does not define, a misspelt key), never as a crash half-way through the report.
"""

from __future__ import annotations

import difflib
import functools
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Optional, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from brokerform.errors import Location, ManifestError, Problem, format_path

BROKERS = ("rabbitmq", "kafka", "azure-servicebus", "aws")
FRAMEWORK_DIMENSIONS = ("patterns", "scale", "latency", "features", "management")

Amount = Optional[float]  # strict floats take integers too


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Cited(_Strict):
    note: Optional[str] = None
    source: Optional[str] = None


class Scored(_Cited):
    score: int = Field(ge=0, le=2, description="0 = not available, 1 = possible with work or limits, 2 = native")
    how: Optional[str] = None


class FrameworkValue(_Cited):
    value: str


class Framework(_Strict):
    patterns: FrameworkValue
    scale: FrameworkValue
    latency: FrameworkValue
    features: FrameworkValue
    management: FrameworkValue


class Patterns(_Strict):
    pubsub: Optional[Scored] = None
    point_to_point: Optional[Scored] = Field(None, alias="point-to-point")
    request_reply: Optional[Scored] = Field(None, alias="request-reply")
    competing_consumers: Optional[Scored] = Field(None, alias="competing-consumers")


class Delivery(_Strict):
    at_most_once: Scored = Field(alias="at-most-once")
    at_least_once: Scored = Field(alias="at-least-once")
    exactly_once: Scored = Field(alias="exactly-once")


class Ordering(_Strict):
    per_key: Scored = Field(alias="per-key")
    global_: Scored = Field(alias="global")


class Retention(Scored):
    max_ms: Optional[int] = Field(None, ge=0)


class MessageSize(_Cited):
    default: Optional[int] = Field(None, ge=0)
    limit: Optional[int] = Field(None, ge=0)


class Throughput(_Cited):
    comfortable_per_entity: Amount = Field(None, ge=0)
    max_per_entity: Amount = Field(None, ge=0)
    per_partition: Amount = Field(None, ge=1)
    fifo_per_entity: Amount = Field(None, ge=0)


class Latency(_Cited):
    typical: float = Field(ge=0)


class Posture(_Cited):
    replication: Optional[str] = None


class Broker(_Strict):
    label: Optional[str] = None
    framework: Framework
    patterns: Patterns
    delivery: Delivery
    ordering: Ordering
    replay: Scored
    retention: Retention
    max_message_size: MessageSize
    throughput: Throughput
    latency_ms: Latency
    posture: Optional[Posture] = None


class Brokers(_Strict):
    rabbitmq: Broker
    kafka: Broker
    azure_servicebus: Broker = Field(alias="azure-servicebus")
    aws: Broker


class DeliveryStrategy(_Cited):
    guarantee: str
    performance: str
    use_case: str


class Levels(_Strict):
    patterns: dict[str, int]
    scale: dict[str, int]
    latency: dict[str, int]
    features: dict[str, int]
    management: dict[str, int]


class Matrix(_Strict):
    version: Literal[1] = 1
    sources: dict[str, str] = Field(default_factory=dict)
    delivery_strategies: dict[str, DeliveryStrategy] = Field(default_factory=dict)
    levels: Levels
    brokers: Brokers


def load_matrix(path: Path | None = None) -> dict[str, Any]:
    """The matrix as a dict; a custom path lets organisations keep their own scores."""
    if path is None:
        return _packaged_matrix()
    from brokerform.manifest.loader import _read_text

    shown = str(path)
    problems: list[Problem] = []
    if Path(path).is_dir():
        problems.append(Problem(Location(shown), "--capabilities expects a YAML file, got a directory"))
        raise ManifestError(problems)
    text = _read_text(Path(path), problems)
    if text is None:
        raise ManifestError(problems)
    return validate_matrix(text, shown)


@functools.lru_cache(maxsize=1)
def _packaged_matrix() -> dict[str, Any]:
    text = resources.files("brokerform").joinpath("data/broker-capabilities.yaml").read_text(encoding="utf-8")
    return validate_matrix(text, "broker-capabilities.yaml")


def validate_matrix(text: str, shown: str) -> dict[str, Any]:
    """Parse and check a capability matrix; ManifestError with located problems when it is wrong."""
    from brokerform.manifest.yamlsource import YamlProblems, parse_yaml

    try:
        data, source = parse_yaml(text, shown, positions=True)
    except YamlProblems as exc:
        raise ManifestError(exc.problems) from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ManifestError([Problem(Location(shown, 1, 1), f"a capability matrix is a mapping with `levels:` "
                                                           f"and `brokers:`, got {got}")])
    try:
        Matrix.model_validate(data)
    except ValidationError as exc:
        raise ManifestError([_problem(err, data, source) for err in exc.errors()]) from None
    problems = _unknown_levels(data, source)
    if problems:
        raise ManifestError(problems)
    return data


def _problem(error: Any, data: dict, source: Any) -> Problem:
    """A pydantic error in the manifest's words, with did-you-mean from this file's own model."""
    from brokerform.manifest.validation import _data_path, problem_from_error, unknown_field_message

    loc = tuple(error.get("loc", ()))
    if error.get("type") == "missing" and loc:
        parent = _data_path(loc[:-1], data)
        path = parent + (loc[-1],)
        return Problem(source.locate(parent, key=True), "required field is missing", format_path(path))
    if error.get("type") == "extra_forbidden":
        path = _data_path(loc, data)
        message = unknown_field_message(str(loc[-1]), _allowed_keys(loc[:-1]))
        return Problem(source.locate(path, key=True), message, format_path(path))
    return problem_from_error(error, data, source)


def _allowed_keys(loc: tuple) -> list[str]:
    model: Any = Matrix
    for element in loc:
        field = None
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = next((f for name, f in model.model_fields.items() if (f.alias or name) == element), None)
        if field is None:
            return []
        model = next((a for a in _model_args(field.annotation)), None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return sorted(f.alias or name for name, f in model.model_fields.items())


def _model_args(annotation: Any) -> list[Any]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [a for arg in get_args(annotation) for a in _model_args(arg)]


def _unknown_levels(data: dict, source: Any) -> list[Problem]:
    """Every framework word must be one `levels` scores: an unknown word would score 0 silently."""
    problems = []
    for broker in BROKERS:
        for dimension in FRAMEWORK_DIMENSIONS:
            value = data["brokers"][broker]["framework"][dimension]["value"]
            known = data["levels"][dimension]
            if value not in known:
                path = ("brokers", broker, "framework", dimension, "value")
                message = f"unknown level {value!r} for {dimension}; levels.{dimension} defines {', '.join(known) or 'none'}"
                close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
                if close:
                    message += f"; did you mean {close[0]!r}?"
                problems.append(Problem(source.locate(path), message, format_path(path)))
    return problems


def broker_label(matrix: dict[str, Any], broker: str) -> str:
    return matrix["brokers"].get(broker, {}).get("label") or broker


def framework_score(matrix: dict[str, Any], broker: str, dimension: str) -> int:
    """The brief's word for a dimension (e.g. scale=Medium) as a number from `levels`."""
    value = matrix["brokers"][broker]["framework"][dimension]["value"]
    return int(matrix.get("levels", {}).get(dimension, {}).get(value, 0))


def matrix_rows(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """The decision-framework table (dimension x broker) with sources, for the report."""
    rows = []
    for dimension in FRAMEWORK_DIMENSIONS:
        cells = []
        for broker in BROKERS:
            cell = matrix["brokers"][broker]["framework"][dimension]
            cells.append({"broker": broker, "value": cell["value"], "source": cell.get("source") or ""})
        rows.append({"dimension": dimension, "cells": cells})
    return rows
