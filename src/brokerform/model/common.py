"""Cross-cutting properties shared by channels and native resources of every broker."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from brokerform.model.base import Interpolated, SecretRef, StrictModel
from brokerform.model.units import Duration, Size


class Tls(StrictModel):
    """Transport security to a target. Verification is on unless explicitly disabled."""

    enabled: bool = True
    ca_file: Interpolated | None = Field(default=None, description="PEM bundle of trusted CAs.")
    cert_file: Interpolated | None = Field(default=None, description="Client certificate (mutual TLS).")
    key_file: SecretRef | None = Field(
        default=None, description="Client private key, by reference: ${file:path} or ${env:NAME}."
    )
    server_name: str | None = Field(default=None, description="Expected server name (SNI / verification).")
    verify: bool = Field(default=True, description="Verify the server certificate. Never disable in prod.")
    min_version: Literal["1.0", "1.1", "1.2", "1.3"] | None = None


class DeadLetter(StrictModel):
    """Where messages go when they cannot be processed."""

    enabled: bool = True
    max_deliveries: int | None = Field(
        default=None, ge=1, le=2000, description="Deliveries before a message is dead-lettered."
    )
    target: str | None = Field(
        default=None,
        description="Name of the dead-letter queue/topic; omitted means `<channel>.dlq` (broker convention).",
    )
    ttl: Duration | None = Field(default=None, description="How long dead letters are kept.")
    on_expiry: bool = Field(default=True, description="Dead-letter messages whose TTL expires.")
    alert: bool = Field(default=True, description="Alert when the DLQ is not empty.")


class RetryPolicy(StrictModel):
    """Consumer retry behaviour; compiled to delay tiers/retry topics where the broker has them."""

    attempts: int = Field(ge=1, le=100, description="Retries before dead-lettering.")
    backoff: Literal["fixed", "exponential"] = "exponential"
    initial_delay: Duration = Field(default=1000, description="Delay before the first retry.")
    max_delay: Duration | None = Field(default=None, description="Cap for exponential backoff.")
    multiplier: float = Field(default=2.0, gt=1.0, le=10.0)

    @model_validator(mode="after")
    def _max_delay_not_below_initial(self) -> "RetryPolicy":
        if self.max_delay is not None and self.max_delay < self.initial_delay:
            raise ValueError("max_delay must not be shorter than initial_delay")
        return self

    def delays_ms(self) -> list[int]:
        """The delay before each retry, capped and de-duplicated into tiers in order."""
        delays: list[int] = []
        delay = float(self.initial_delay)
        for _ in range(self.attempts):
            value = int(delay)
            if self.max_delay is not None:
                value = min(value, self.max_delay)
            delays.append(value)
            if self.backoff == "exponential":
                delay *= self.multiplier
        return delays


class Ordering(StrictModel):
    """Ordering guarantee a channel needs and how the broker provides it."""

    mode: Literal["none", "fifo", "per-key", "sessions", "single-active-consumer"] = "none"
    key: str | None = Field(default=None, description="Message property used as partition/group/session key.")


class MaxLength(StrictModel):
    messages: int | None = Field(default=None, ge=0)
    bytes: Size | None = None
    overflow: Literal["drop-head", "reject-publish", "reject-publish-dlx"] = "drop-head"


MessageProperty = Literal[
    "message-id",
    "timestamp",
    "content-type",
    "content-encoding",
    "correlation-id",
    "reply-to",
    "expiration",
    "priority",
    "type",
    "user-id",
    "app-id",
    "causation-id",
    "schema-version",
]


class Contract(StrictModel):
    """The message contract producers and consumers agree on."""

    schema_file: str | None = Field(default=None, alias="schema", description="Path to a JSON Schema or Avro file.")
    format: Literal["json-schema", "avro", "protobuf"] | None = None
    version: str | None = Field(default=None, description="Schema version, e.g. 1.2.0.")
    compatibility: Literal["backward", "forward", "full", "none"] | None = None
    required_properties: list[MessageProperty] = Field(default_factory=list)
    max_message_size: Size | None = None
    content_type: str | None = None


class Requirements(StrictModel):
    """What a channel needs from its broker, used by the decision report's broker-fit scoring."""

    delivery: Literal["at-most-once", "at-least-once", "exactly-once"] | None = None
    throughput: float | None = Field(default=None, ge=0, description="Expected messages per second (peak).")
    message_size: Size | None = Field(default=None, description="Typical message size.")
    ordering: Literal["none", "per-key", "global"] | None = None
    retention: Duration | None = Field(default=None, description="How long messages must stay readable.")
    replay: bool | None = Field(default=None, description="Consumers need to re-read history.")
    latency: Duration | None = Field(default=None, description="End-to-end latency budget.")
    idempotent_consumers: bool | None = Field(default=None, description="Consumers de-duplicate by message id.")
    processing_time: Duration | None = Field(default=None, description="Worst-case handling time of one message.")
    consumers: int | None = Field(default=None, ge=0, description="Expected number of parallel consumers.")


class Monitoring(StrictModel):
    """Alert thresholds for a channel."""

    max_depth: int | None = Field(default=None, ge=0, description="Alert above this many ready messages.")
    max_age: Duration | None = Field(default=None, description="Alert when the oldest message is older.")
    max_consumer_lag: int | None = Field(default=None, ge=0, description="Alert above this lag (Kafka).")
    dlq_not_empty: bool = Field(default=True, description="Alert when the dead-letter queue has messages.")
    min_consumers: int | None = Field(default=None, ge=0)
    max_error_rate: float | None = Field(default=None, ge=0, le=1)
    max_latency: Duration | None = Field(default=None, description="SLA breach: alert above this end-to-end latency.")
    min_publish_rate: float | None = Field(
        default=None, ge=0, description="Alert when fewer messages per second arrive (a stalled producer)."
    )


class Acl(StrictModel):
    """One access rule: a principal may (or may not) do operations on a resource."""

    principal: str = Field(description="User:alice, a service name, an ARN, ...")
    operations: list[str] = Field(min_length=1)
    permission: Literal["allow", "deny"] = "allow"
    host: str = "*"


class Encryption(StrictModel):
    at_rest: bool | None = None
    kms_key: str | None = None
    in_transit: bool | None = None
