"""Native Apache Kafka resources, as the admin API knows them."""

from __future__ import annotations

import difflib
import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from brokerform.model.base import BootstrapServers, Interpolated, SecretRef, StrictModel
from brokerform.model.targets_common import NativeResource, TargetBase
from brokerform.model.units import Duration

ConfigValue = str | int | float | bool | list[str]
"""A topic config value: numbers and booleans are normalised to the strings Kafka stores;
`*.ms` keys also take durations (`7d`), `*.bytes` keys sizes (`1GiB`), lists join with commas."""


class KafkaScope(StrictModel):
    topic_prefixes: list[str] = Field(default_factory=list, description="Managed topics start with one of these.")
    manage_acls: bool = True
    manage_users: bool = True
    manage_quotas: bool = True
    include_internal: bool = Field(default=False, description="Never true in practice: __consumer_offsets etc.")


class KafkaSasl(StrictModel):
    mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] = "PLAIN"
    username: Interpolated
    password: SecretRef


class KafkaTopic(NativeResource):
    partitions: int | None = Field(default=None, ge=1, le=100_000)
    replication_factor: int | None = Field(default=None, ge=1, le=32)
    retention: Duration | None = Field(default=None, description="Sugar for configs.retention.ms.")
    configs: dict[str, ConfigValue] = Field(default_factory=dict)


AclOperation = Literal[
    "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
    "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE",
]


def _check_principal(value: str) -> str:
    kind, colon, name = value.partition(":")
    if not colon or not kind or not name:
        raise ValueError(f"a Kafka principal is TYPE:NAME, like User:{value or 'orders-service'}; got {value!r}")
    return value


def _check_acl_host(value: str) -> str:
    """Kafka matches ACL hosts against client IP addresses: a hostname would never match."""
    if value != "*":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"an ACL host is * or an IP address (Kafka does not resolve names), got {value!r}") from None
    return value


Principal = Annotated[str, AfterValidator(_check_principal)]


class KafkaAcl(StrictModel):
    principal: Principal = Field(description="e.g. User:orders-service")
    host: Annotated[str, AfterValidator(_check_acl_host)] = "*"
    operation: AclOperation
    permission: Literal["ALLOW", "DENY"] = "ALLOW"
    resource_type: Literal["TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID"] = "TOPIC"
    resource_name: str
    pattern_type: Literal["LITERAL", "PREFIXED"] = "LITERAL"


class KafkaUser(NativeResource):
    mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-256"
    password: SecretRef
    iterations: int = Field(default=8192, ge=4096)


class KafkaQuota(StrictModel):
    """Producer throttling and fair sharing: byte-rate and request quotas per user and/or client id."""

    user: str | None = Field(default=None, description="Quota entity: the user (principal name without User:).")
    client_id: str | None = Field(default=None, description="Quota entity: the client id.")
    producer_byte_rate: int | None = Field(default=None, ge=0, description="Bytes per second a producer may send.")
    consumer_byte_rate: int | None = Field(default=None, ge=0, description="Bytes per second a consumer may fetch.")
    request_percentage: float | None = Field(default=None, ge=0, description="Share of broker request-handler time.")
    controller_mutation_rate: float | None = Field(default=None, ge=0, description="Partition mutations per second.")


class KafkaService(StrictModel):
    """kafka-gitops style service: its principal gets the ACLs its produces/consumes imply."""

    principal: Principal
    produces: list[str] = Field(default_factory=list)
    consumes: list[str] = Field(default_factory=list)
    group: str | None = Field(default=None, description="Consumer group id (prefix allowed with '*' suffix).")
    transactional_id: str | None = None


class KafkaConsumerGroup(NativeResource):
    principals: list[Principal] = Field(default_factory=list)


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


def _check_security_protocol(value: str) -> str:
    """librdkafka would refuse a misspelt protocol only when the first command connects."""
    if value.upper() in SECURITY_PROTOCOLS:
        return value
    close = difflib.get_close_matches(value.upper(), SECURITY_PROTOCOLS, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"expected one of {', '.join(SECURITY_PROTOCOLS)}, got {value!r}{hint}")


class KafkaTarget(TargetBase):
    type: Literal["kafka"]
    bootstrap_servers: BootstrapServers
    security_protocol: Annotated[Interpolated, AfterValidator(_check_security_protocol)] = Field(
        default="PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    sasl: KafkaSasl | None = None
    timeout: Duration = 30_000
    scope: KafkaScope = Field(default_factory=KafkaScope)
    allow_reassignment: bool = Field(
        default=False, description="Change replication factors by partition reassignment instead of BLOCKED."
    )
    lock_lease: Duration = Field(
        default=900_000, description="An apply lock older than this is considered stale and broken."
    )
    topics: dict[str, KafkaTopic] = Field(default_factory=dict)
    acls: list[KafkaAcl] = Field(default_factory=list)
    users: dict[str, KafkaUser] = Field(default_factory=dict)
    quotas: list[KafkaQuota] = Field(default_factory=list)
    services: dict[str, KafkaService] = Field(default_factory=dict)
    consumer_groups: dict[str, KafkaConsumerGroup] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sasl_matches_protocol(self) -> "KafkaTarget":
        """Without this, SASL_* and no `sasl` fails inside librdkafka (it falls back to GSSAPI), and a
        `sasl` block under PLAINTEXT or SSL is silently never used."""
        protocol = self.security_protocol.upper()
        if protocol.startswith("SASL_") and self.sasl is None:
            raise ValueError(f"security_protocol {protocol} needs a sasl block (mechanism, username, password)")
        if self.sasl is not None and not protocol.startswith("SASL_"):
            raise ValueError(f"sasl is never used with security_protocol {protocol}: "
                             "use SASL_PLAINTEXT or SASL_SSL, or remove the sasl block")
        return self
