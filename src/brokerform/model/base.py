"""Shared pydantic configuration and small annotated types for manifest models."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema

from brokerform.model.sqlfilter import action_problem, filter_problem
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


def _url_check(schemes: tuple[str, ...], example: str) -> Any:
    """A URL must use one of `schemes` and name a host (and a valid port): `localhost:15672`
    without `http://` would otherwise fail only when a command connects."""

    def check(value: str) -> str:
        problem = url_problem(value, schemes)
        if problem:
            raise ValueError(f"{problem}; for example {example}")
        return value

    return AfterValidator(check)


def _url_schema(example: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "description": f"A URL like {example}."})


ManagementUrl = Annotated[str, AfterValidator(_interpolate), _url_check(("http", "https"), "http://rabbitmq.internal:15672"),
                          _url_schema("http://rabbitmq.internal:15672")]
AmqpUrl = Annotated[str, AfterValidator(_interpolate), _url_check(("amqp", "amqps"), "amqp://rabbitmq.internal:5672"),
                    _url_schema("amqp://rabbitmq.internal:5672")]
ArmEndpoint = Annotated[str, AfterValidator(_interpolate), _url_check(("https", "http"), "https://management.azure.com"),
                        _url_schema("https://management.azure.com")]
AwsEndpoint = Annotated[str, AfterValidator(_interpolate),
                        _url_check(("https", "http"), "https://sqs.eu-west-1.amazonaws.com"),
                        _url_schema("https://sqs.eu-west-1.amazonaws.com")]


def url_problem(value: str, schemes: tuple[str, ...]) -> str | None:
    """What is wrong with a URL, without echoing it (it may carry credentials)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme.lower() not in schemes:
        found = f"it has {parts.scheme}://" if "://" in value else "it has none"
        return f"the URL needs {' or '.join(s + '://' for s in schemes)} ({found})"
    if not parts.hostname:
        return "the URL names no host"
    if port == 0:
        return "port 0 is not a port a server listens on"
    return None


def bootstrap_problem(value: str) -> str | None:
    """What is wrong with a Kafka bootstrap list: comma-separated [protocol://]host[:port]."""
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            return "an empty entry in the comma-separated list"
        host, port = _host_and_port(entry.split("://", 1)[-1])
        if not host or host == "[]":
            return f"{entry!r} names no host"
        if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
            return f"{entry!r} has port {port!r}, not a number from 1 to 65535"
    return None


def _host_and_port(address: str) -> tuple[str, str | None]:
    """`host:port`, `[IPv6]:port`, or a host alone (a bare IPv6 address has no port)."""
    if address.startswith("["):
        inside, _, rest = address.partition("]")
        return inside + "]", rest[1:] if rest.startswith(":") else None
    if address.count(":") == 1:
        host, port = address.split(":")
        return host, port
    return address, None


def _check_bootstrap(value: str) -> str:
    problem = bootstrap_problem(value)
    if problem:
        raise ValueError(f"{problem}; expected host:port[,host:port...] like broker-1:9092,broker-2:9092")
    return value


BootstrapServers = Annotated[str, AfterValidator(_interpolate), AfterValidator(_check_bootstrap)]
"""Kafka's bootstrap.servers, checked when the manifest loads rather than when a client connects."""

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


def sql_problem(text: str, action: bool = False) -> str | None:
    """What makes Service Bus refuse a SQL filter (or, with `action`, a rule action): empty text,
    an open literal, unbalanced parentheses, or text outside Microsoft's documented grammar.
    Checked when the manifest loads, so `validate` and `plan` locate it instead of Azure at apply."""
    return action_problem(text) if action else filter_problem(text)


def _check_sql(value: str) -> str:
    problem = sql_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_sql_action(value: str) -> str:
    problem = sql_problem(value, action=True)
    if problem:
        raise ValueError(problem)
    return value


SqlText = Annotated[str, AfterValidator(_check_sql)]
"""A Service Bus SQL filter (a condition), checked against the documented grammar."""

SqlAction = Annotated[str, AfterValidator(_check_sql_action)]
"""A Service Bus SQL rule action (SET/REMOVE statements), checked against the documented grammar."""
