"""The root of a brokerform manifest."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import AfterValidator, Field, WithJsonSchema

from brokerform.model.aws import AwsTarget
from brokerform.model.base import Meta, StrictModel
from brokerform.model.channels import Channel
from brokerform.model.kafka import KafkaTarget
from brokerform.model.lintconfig import LintConfig
from brokerform.model.rabbitmq import RabbitMQTarget
from brokerform.model.servicebus import ServiceBusTarget
from brokerform.model.units import Duration

Target = Annotated[
    Union[RabbitMQTarget, KafkaTarget, ServiceBusTarget, AwsTarget],
    Field(discriminator="type"),
]
TARGET_TYPES = ("rabbitmq", "kafka", "azure-servicebus", "aws")


class Settings(StrictModel):
    allow_replace: bool = Field(default=False, description="Allow REPLACE without --allow-replace.")
    prune: bool = Field(default=False, description="Delete unmanaged resources inside the scope.")
    parallelism: int = Field(default=8, ge=1, le=64)
    lock_timeout: Duration = Field(default=60_000, description="How long apply waits for the target lock.")
    audit_log: str | None = Field(default=None, description="JSONL audit file; default .brokerform/audit.jsonl.")


MANIFEST_FORMAT = 1


def _known_format(value: int) -> int:
    if value != MANIFEST_FORMAT:
        raise ValueError(f"this brokerform reads manifest format {MANIFEST_FORMAT}, and the file declares format "
                         f"{value!r} (a newer brokerform, or a typo)")
    return value


class Manifest(StrictModel):
    brokerform: Annotated[int, AfterValidator(_known_format), WithJsonSchema({"const": MANIFEST_FORMAT})] = Field(
        default=MANIFEST_FORMAT, description="Manifest language version: 1.")
    metadata: Meta = Field(default_factory=Meta)
    settings: Settings = Field(default_factory=Settings)
    targets: dict[str, Target] = Field(default_factory=dict)
    channels: dict[str, Channel] = Field(default_factory=dict)
    lint: LintConfig = Field(default_factory=LintConfig)
