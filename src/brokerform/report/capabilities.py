"""Load the broker capability matrix (`brokerform/data/broker-capabilities.yaml`)."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from brokerform.errors import BrokerformError

BROKERS = ("rabbitmq", "kafka", "azure-servicebus", "aws")
FRAMEWORK_DIMENSIONS = ("patterns", "scale", "latency", "features", "management")


def load_matrix(path: Path | None = None) -> dict[str, Any]:
    """The matrix as a dict; a custom path lets organisations keep their own scores."""
    if path is None:
        return _packaged_matrix()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BrokerformError(f"{path}: cannot read the capability matrix: {exc}") from None
    _check(data, str(path))
    return data


@functools.lru_cache(maxsize=1)
def _packaged_matrix() -> dict[str, Any]:
    text = resources.files("brokerform").joinpath("data/broker-capabilities.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    _check(data, "broker-capabilities.yaml")
    return data


def _check(data: Any, where: str) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("brokers"), dict):
        raise BrokerformError(f"{where}: a capability matrix needs a `brokers:` mapping")
    missing = [b for b in BROKERS if b not in data["brokers"]]
    if missing:
        raise BrokerformError(f"{where}: brokers missing from the capability matrix: {', '.join(missing)}")


def broker_label(matrix: dict[str, Any], broker: str) -> str:
    return matrix["brokers"].get(broker, {}).get("label", broker)


def framework_score(matrix: dict[str, Any], broker: str, dimension: str) -> int:
    """The brief's word for a dimension (e.g. scale=Medium) as a number from `levels`."""
    value = matrix["brokers"][broker]["framework"][dimension]["value"]
    return int(matrix.get("levels", {}).get(dimension, {}).get(value, 0))


def matrix_rows(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """The decision-framework table (dimension x broker) with sources, for the report."""
    rows = []
    for dimension in FRAMEWORK_DIMENSIONS:
        row = {"dimension": dimension, "cells": []}
        for broker in BROKERS:
            cell = matrix["brokers"][broker]["framework"][dimension]
            row["cells"].append({"broker": broker, "value": cell["value"], "source": cell.get("source", "")})
        rows.append(row)
    return rows
