"""The logical layer: broker-neutral channels that compile to each broker's native resources."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from brokerform.model.base import SqlText, StrictModel
from brokerform.model.common import (
    Acl,
    Contract,
    DeadLetter,
    Encryption,
    MaxLength,
    Monitoring,
    Ordering,
    Requirements,
    RetryPolicy,
)
from brokerform.model.units import Duration

Pattern = Literal["pubsub", "point-to-point", "request-reply", "competing-consumers"]


class Filter(StrictModel):
    """A subscription filter; each broker takes the forms it can express."""

    routing_key: str | None = Field(default=None, description="RabbitMQ topic pattern, e.g. order.*.eu")
    headers: dict[str, str | int | bool] | None = Field(default=None, description="Match on message headers.")
    sql: SqlText | None = Field(default=None, description="Service Bus SQL filter expression.")
    attributes: dict[str, Any] | None = Field(default=None, description="SNS filter policy on message attributes.")

    @model_validator(mode="after")
    def _one_form(self) -> "Filter":
        given = [k for k in ("routing_key", "headers", "sql", "attributes") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a filter takes exactly one of routing_key, headers, sql, attributes")
        return self


class Subscription(StrictModel):
    filter: Filter | None = None
    consumers: list[str] = Field(default_factory=list)
    owner: str | None = None
    max_length: MaxLength | None = None


class Reply(StrictModel):
    ttl: Duration = Field(description="How long a reply waits before it expires.")
    timeout: Duration | None = Field(default=None, description="How long the requester waits.")
    queue: str | None = Field(default=None, description="Reply queue name; default `<channel>.reply`.")


class ClientSettings(StrictModel):
    """How the channel's producers and consumers use the broker (the brief's performance checklist).

    brokerform does not run clients; these settings are recorded so lint and reports can check
    them against the channel's requirements.
    """

    prefetch: int | None = Field(default=None, ge=0, description="Unacknowledged messages per consumer (0 = unbounded).")
    batch_size: int | None = Field(default=None, ge=1, description="Messages per producer or consumer batch.")
    linger: Duration | None = Field(default=None, description="How long a producer waits to fill a batch.")
    connection_pool: int | None = Field(default=None, ge=1, description="Connections each service instance keeps open.")
    publisher_confirms: bool | None = Field(
        default=None, description="Producers wait for the broker's acknowledgement (acks=all, confirms)."
    )
    max_publish_rate: float | None = Field(default=None, ge=0, description="Producer throttling, messages per second.")
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] | None = None


class Channel(StrictModel):
    """One message flow between producers and consumers."""

    target: str = Field(description="Name of the target this channel lives on.")
    pattern: Pattern
    name: str | None = Field(default=None, description="Native base name; defaults to the channel's key.")
    description: str | None = None
    owner: str | None = None
    contact: str | None = None
    producers: list[str] = Field(default_factory=list)
    consumers: list[str] = Field(default_factory=list)
    subscriptions: dict[str, Subscription] = Field(default_factory=dict)
    consumer_group: str | None = None
    durable: bool = True
    ttl: Duration | None = Field(default=None, description="Message TTL / retention on the channel.")
    ack_timeout: Duration | None = Field(
        default=None, description="Lock duration / visibility timeout a consumer gets per message."
    )
    partitions: int | None = Field(default=None, ge=1)
    replication_factor: int | None = Field(default=None, ge=1)
    min_insync_replicas: int | None = Field(default=None, ge=1)
    dead_letter: DeadLetter | None = None
    retry: RetryPolicy | None = None
    ordering: Ordering | None = None
    duplicate_detection: Duration | None = Field(default=None, description="De-duplication window.")
    max_length: MaxLength | None = None
    priority: int | None = Field(default=None, ge=1, le=255, description="Number of priority levels.")
    reply: Reply | None = None
    encryption: Encryption | None = None
    acls: list[Acl] = Field(default_factory=list)
    contract: Contract | None = None
    requirements: Requirements | None = None
    monitoring: Monitoring | None = None
    client: ClientSettings | None = None
    protect: bool = False
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _pattern_shape(self) -> "Channel":
        if self.pattern == "pubsub" and not self.subscriptions:
            raise ValueError("a pubsub channel needs at least one subscription")
        if self.pattern != "pubsub" and self.subscriptions:
            raise ValueError(f"subscriptions belong to pubsub channels, not {self.pattern}")
        if self.pattern == "request-reply" and self.reply is None:
            raise ValueError("a request-reply channel needs reply (at least reply.ttl)")
        if self.pattern != "request-reply" and self.reply is not None:
            raise ValueError("reply belongs to request-reply channels")
        return self

    @property
    def base_name(self) -> str:
        return self.name or ""


# Which channel properties each broker can express; anything else is an error naming the broker.
BROKER_SUPPORT: dict[str, set[str]] = {
    "priority": {"rabbitmq"},
    "partitions": {"kafka"},
    "replication_factor": {"kafka"},
    "min_insync_replicas": {"kafka"},
    "duplicate_detection": {"azure-servicebus", "aws"},
    "ack_timeout": {"azure-servicebus", "aws"},
    "max_length.messages": {"rabbitmq"},
    "max_length.bytes": {"rabbitmq", "kafka", "azure-servicebus"},
    "filter.routing_key": {"rabbitmq"},
    "filter.headers": {"rabbitmq", "azure-servicebus", "aws"},
    "filter.sql": {"azure-servicebus"},
    "filter.attributes": {"aws"},
    "ordering.sessions": {"azure-servicebus"},
    "ordering.fifo": {"aws", "azure-servicebus"},
    "ordering.single-active-consumer": {"rabbitmq"},
    "ordering.per-key": {"kafka", "aws", "azure-servicebus"},
}
