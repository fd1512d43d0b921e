"""Native RabbitMQ resources, as the management HTTP API knows them."""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from brokerform.model.base import AmqpUrl, Interpolated, ManagementUrl, SecretRef, StrictModel
from brokerform.model.targets_common import NativeResource, TargetBase
from brokerform.model.units import Duration, Size

ArgValue = str | int | float | bool | list[Any] | dict[str, Any] | None


class RabbitScope(StrictModel):
    vhost: str = Field(default="/", description="The virtual host this target manages.")
    name_prefix: str | None = Field(default=None, description="Only objects whose name starts with this are managed.")
    manage_users: bool = Field(default=True, description="Manage the users declared here (never others).")


class RabbitVhost(StrictModel):
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    default_queue_type: Literal["classic", "quorum", "stream"] | None = None
    max_connections: int | None = Field(default=None, ge=0)
    max_queues: int | None = Field(default=None, ge=0)
    create: bool = Field(default=True, description="Create the vhost when missing.")


BUILTIN_EXCHANGE_TYPES = ("direct", "fanout", "topic", "headers")


def _check_exchange_type(value: str) -> str:
    """Built-in types, or a plugin's (plugins name theirs x-..., like x-delayed-message)."""
    if value in BUILTIN_EXCHANGE_TYPES or value.startswith("x-"):
        return value
    close = difflib.get_close_matches(value, BUILTIN_EXCHANGE_TYPES, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"expected direct, fanout, topic, headers or a plugin's x-... type, got {value!r}{hint}")


class RabbitExchange(NativeResource):
    type: Annotated[str, AfterValidator(_check_exchange_type), WithJsonSchema({
        "anyOf": [{"enum": list(BUILTIN_EXCHANGE_TYPES)}, {"type": "string", "pattern": "^x-"}],
        "description": "direct, fanout, topic, headers, or a plugin's type (x-delayed-message, x-consistent-hash...)."})] = "direct"
    durable: bool = True
    auto_delete: bool = False
    internal: bool = False
    alternate_exchange: str | None = None
    arguments: dict[str, ArgValue] = Field(default_factory=dict)


class RabbitQueue(NativeResource):
    type: Literal["classic", "quorum", "stream"] = "classic"
    durable: bool = True
    auto_delete: bool = False
    exclusive: bool = False
    message_ttl: Duration | None = None
    expires: Duration | None = None
    max_length: int | None = Field(default=None, ge=0)
    max_length_bytes: Size | None = None
    overflow: Literal["drop-head", "reject-publish", "reject-publish-dlx"] | None = None
    dead_letter_exchange: str | None = None
    dead_letter_routing_key: str | None = None
    dead_letter_strategy: Literal["at-most-once", "at-least-once"] | None = None
    max_priority: int | None = Field(default=None, ge=1, le=255)
    single_active_consumer: bool | None = None
    delivery_limit: int | None = Field(default=None, ge=0)
    max_age: str | None = Field(default=None, description="Stream retention, RabbitMQ syntax: 7D, 12h, 30m.")
    stream_max_segment_size_bytes: Size | None = None
    arguments: dict[str, ArgValue] = Field(default_factory=dict, description="Raw x-arguments (immutable).")

    @model_validator(mode="after")
    def _type_specific(self) -> "RabbitQueue":
        if self.dead_letter_routing_key is not None and self.dead_letter_exchange is None:
            raise ValueError("dead_letter_routing_key needs dead_letter_exchange")
        if self.type != "quorum" and self.delivery_limit is not None:
            raise ValueError("delivery_limit exists only on quorum queues")
        if self.type != "stream" and self.max_age is not None:
            raise ValueError("max_age exists only on stream queues")
        if self.type in ("quorum", "stream") and not self.durable:
            raise ValueError(f"{self.type} queues are always durable")
        if self.type in ("quorum", "stream") and self.auto_delete:
            raise ValueError(f"{self.type} queues cannot be auto-delete (RabbitMQ refuses the property)")
        if self.type == "stream" and (self.dead_letter_exchange or self.message_ttl is not None):
            raise ValueError("streams support neither dead-lettering nor message TTL; use max_age")
        return self


class RabbitBinding(NativeResource):
    source: str = Field(description="Exchange the messages come from.")
    destination: str
    destination_type: Literal["queue", "exchange"] = "queue"
    routing_key: str = ""
    arguments: dict[str, ArgValue] = Field(default_factory=dict)


class RabbitPolicy(NativeResource):
    pattern: str
    apply_to: Literal["queues", "exchanges", "all", "classic_queues", "quorum_queues", "streams"] = "queues"
    priority: int = 0
    definition: dict[str, ArgValue]


class RabbitUser(NativeResource):
    password: SecretRef | None = None
    tags: list[str] = Field(default_factory=list)


class RabbitPermission(StrictModel):
    configure: str = "^$"
    write: str = "^$"
    read: str = "^$"


class RabbitTopicPermission(StrictModel):
    exchange: str
    write: str = "^$"
    read: str = "^$"


class RabbitParameter(NativeResource):
    """Runtime parameters such as shovels and federation upstreams (kept verbatim)."""

    component: str
    value: dict[str, ArgValue] | list[ArgValue] = Field(
        description="The parameter's JSON value: an object (shovel, upstream) or a list (federation-upstream-set).")


class RabbitMQTarget(TargetBase):
    type: Literal["rabbitmq"]
    url: ManagementUrl = Field(description="Management API base URL, e.g. http://127.0.0.1:15672.")
    amqp_url: AmqpUrl | None = Field(default=None, description="AMQP URL for clients (reports, tests).")
    username: Interpolated = "guest"
    password: SecretRef | None = None
    timeout: Duration = 30_000
    scope: RabbitScope = Field(default_factory=RabbitScope)
    vhost: RabbitVhost | None = None
    exchanges: dict[str, RabbitExchange] = Field(default_factory=dict)
    queues: dict[str, RabbitQueue] = Field(default_factory=dict)
    bindings: list[RabbitBinding] = Field(default_factory=list)
    policies: dict[str, RabbitPolicy] = Field(default_factory=dict)
    operator_policies: dict[str, RabbitPolicy] = Field(default_factory=dict)
    users: dict[str, RabbitUser] = Field(default_factory=dict)
    permissions: dict[str, RabbitPermission] = Field(default_factory=dict, description="Per user, in the scope vhost.")
    topic_permissions: dict[str, list[RabbitTopicPermission]] = Field(default_factory=dict)
    parameters: dict[str, RabbitParameter] = Field(default_factory=dict)
