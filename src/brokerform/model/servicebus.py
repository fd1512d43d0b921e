"""Native Azure Service Bus resources, as Azure Resource Manager knows them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from brokerform.model.base import ArmEndpoint, Interpolated, SecretRef, SqlAction, SqlText, StrictModel
from brokerform.model.targets_common import NativeResource, TargetBase
from brokerform.model.units import Duration, Size

Right = Literal["Listen", "Send", "Manage"]



class ServiceBusScope(StrictModel):
    name_prefix: str | None = None


class ServiceBusCredential(StrictModel):
    """Service principal; omitted means DefaultAzureCredential (managed identity, CLI, env)."""

    tenant_id: Interpolated
    client_id: Interpolated
    client_secret: SecretRef


class ServiceBusNamespace(StrictModel):
    manage: bool = Field(default=False, description="Create/update the namespace itself.")
    location: str | None = None
    sku: Literal["Basic", "Standard", "Premium"] = "Standard"
    capacity: int | None = None
    minimum_tls_version: Literal["1.0", "1.1", "1.2"] | None = None
    disable_local_auth: bool | None = None
    zone_redundant: bool | None = None


class AuthorizationRule(NativeResource):
    rights: list[Right] = Field(min_length=1)


class EntityCommon(NativeResource):
    default_message_ttl: Duration | None = None
    auto_delete_on_idle: Duration | None = None
    requires_duplicate_detection: bool | None = None
    duplicate_detection_window: Duration | None = None
    enable_partitioning: bool | None = None
    enable_batched_operations: bool | None = None
    max_size_mb: int | None = Field(default=None, ge=1)
    max_message_size_kb: int | None = Field(default=None, ge=1, le=102400)
    status: Literal["Active", "Disabled", "SendDisabled", "ReceiveDisabled"] | None = None
    authorization_rules: dict[str, AuthorizationRule] = Field(default_factory=dict)


class ServiceBusQueue(EntityCommon):
    lock_duration: Duration | None = None
    max_delivery_count: int | None = Field(default=None, ge=1)
    requires_session: bool | None = None
    dead_lettering_on_message_expiration: bool | None = None
    forward_to: str | None = None
    forward_dead_lettered_messages_to: str | None = None


class SqlFilter(StrictModel):
    expression: SqlText
    action: SqlAction | None = Field(default=None, description="SQL rule action, e.g. SET sys.Label = 'x'.")


class CorrelationFilter(StrictModel):
    correlation_id: str | None = None
    message_id: str | None = None
    to: str | None = None
    reply_to: str | None = None
    label: str | None = Field(default=None, description="The subject.")
    session_id: str | None = None
    reply_to_session_id: str | None = None
    content_type: str | None = None
    properties: dict[str, str | int | float | bool] = Field(default_factory=dict)
    action: SqlAction | None = None


class ServiceBusRule(StrictModel):
    sql: SqlFilter | None = None
    correlation: CorrelationFilter | None = None

    @model_validator(mode="after")
    def _exactly_one_filter(self) -> "ServiceBusRule":
        if (self.sql is None) == (self.correlation is None):
            raise ValueError("a rule takes exactly one of sql or correlation")
        return self


class ServiceBusSubscription(NativeResource):
    lock_duration: Duration | None = None
    max_delivery_count: int | None = Field(default=None, ge=1)
    requires_session: bool | None = None
    default_message_ttl: Duration | None = None
    auto_delete_on_idle: Duration | None = None
    dead_lettering_on_message_expiration: bool | None = None
    dead_lettering_on_filter_evaluation_exceptions: bool | None = None
    enable_batched_operations: bool | None = None
    forward_to: str | None = None
    forward_dead_lettered_messages_to: str | None = None
    status: Literal["Active", "Disabled", "SendDisabled", "ReceiveDisabled"] | None = None
    rules: dict[str, ServiceBusRule] = Field(default_factory=dict)
    keep_default_rule: bool | None = Field(
        default=None,
        description="Keep the $Default (1=1) rule; default: kept only when no rules are declared.",
    )


class ServiceBusTopic(EntityCommon):
    support_ordering: bool | None = None
    subscriptions: dict[str, ServiceBusSubscription] = Field(default_factory=dict)


class ServiceBusTarget(TargetBase):
    type: Literal["azure-servicebus"]
    subscription_id: Interpolated
    resource_group: Interpolated
    namespace_name: Interpolated = Field(alias="namespace")
    endpoint: ArmEndpoint | None = Field(
        default=None, description="ARM endpoint override (tests, sovereign clouds)."
    )
    credential: ServiceBusCredential | None = None
    scope: ServiceBusScope = Field(default_factory=ServiceBusScope)
    namespace_settings: ServiceBusNamespace = Field(default_factory=ServiceBusNamespace)
    queues: dict[str, ServiceBusQueue] = Field(default_factory=dict)
    topics: dict[str, ServiceBusTopic] = Field(default_factory=dict)
    authorization_rules: dict[str, AuthorizationRule] = Field(default_factory=dict)
    max_message_size: Size | None = None
