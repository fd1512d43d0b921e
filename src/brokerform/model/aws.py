"""Native AWS SQS and SNS resources."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from brokerform.model.base import AwsEndpoint, Interpolated, StrictModel, url_problem
from brokerform.model.targets_common import NativeResource, TargetBase
from brokerform.model.units import Duration, Size



class AwsScope(StrictModel):
    name_prefix: str | None = None
    tags: dict[str, str] = Field(
        default_factory=dict, description="Tags that mark resources as managed by this manifest."
    )


class Redrive(StrictModel):
    dead_letter_queue: str = Field(description="Name of a queue in this target (or an ARN).")
    max_receive_count: int = Field(ge=1, le=1000)


class RedriveAllow(StrictModel):
    permission: Literal["allowAll", "denyAll", "byQueue"] = "byQueue"
    source_queues: list[str] = Field(default_factory=list)


class Sse(StrictModel):
    enabled: bool = True
    kms_key: str | None = Field(default=None, description="KMS key id/alias; omitted means SQS-managed keys.")
    data_key_reuse: Duration | None = None


class SqsQueue(NativeResource):
    fifo: bool = False
    content_based_deduplication: bool | None = None
    deduplication_scope: Literal["queue", "messageGroup"] | None = None
    fifo_throughput_limit: Literal["perQueue", "perMessageGroupId"] | None = None
    visibility_timeout: Duration | None = None
    retention: Duration | None = None
    delay: Duration | None = None
    max_message_size: Size | None = None
    receive_wait_time: Duration | None = None
    redrive: Redrive | None = None
    redrive_allow: RedriveAllow | None = None
    sse: Sse | None = None
    policy: dict[str, Any] | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class SnsTopic(NativeResource):
    fifo: bool = False
    content_based_deduplication: bool | None = None
    kms_key: str | None = None
    policy: dict[str, Any] | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class SnsSubscription(NativeResource):
    topic: str
    protocol: Literal["sqs", "lambda", "https", "http", "email", "sms"] = "sqs"
    endpoint: str = Field(description="Queue name in this target, or an ARN/URL.")
    filter_policy: dict[str, Any] | None = None
    filter_policy_scope: Literal["MessageAttributes", "MessageBody"] | None = None
    raw_delivery: bool | None = None
    dead_letter_queue: str | None = None

    @field_validator("endpoint")
    @classmethod
    def _endpoint_fits_protocol(cls, endpoint: str, info: ValidationInfo) -> str:
        """SNS refuses these only when the subscription is created."""
        protocol = info.data.get("protocol")
        if protocol in ("http", "https"):
            problem = url_problem(endpoint, (protocol,))
            if problem:
                raise ValueError(f"an {protocol} subscription's endpoint is a URL: {problem}")
        elif protocol == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", endpoint):
            raise ValueError(f"an email subscription's endpoint is an email address, got {endpoint!r}")
        elif protocol == "sms" and not re.fullmatch(r"\+?[0-9][0-9 ()-]{6,}", endpoint):
            raise ValueError(f"an sms subscription's endpoint is a phone number like +15555550100, got {endpoint!r}")
        elif protocol == "lambda" and not endpoint.startswith("arn:"):
            raise ValueError(f"a lambda subscription's endpoint is the function's ARN, got {endpoint!r}")
        return endpoint


class AwsTarget(TargetBase):
    type: Literal["aws"]
    region: Interpolated = "us-east-1"
    endpoint_url: AwsEndpoint | None = None
    profile: str | None = None
    account_id: Interpolated | None = None
    scope: AwsScope = Field(default_factory=AwsScope)
    queues: dict[str, SqsQueue] = Field(default_factory=dict)
    topics: dict[str, SnsTopic] = Field(default_factory=dict)
    subscriptions: dict[str, SnsSubscription] = Field(default_factory=dict)
