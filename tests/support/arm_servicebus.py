"""A local implementation of the Azure Resource Manager REST contract for
``Microsoft.ServiceBus`` (control plane only), for tests.

It is written from the published REST reference for the api-version used by
``azure-mgmt-servicebus`` 10.0.0 by default (``2026-01-01``; older versions
such as ``2021-11-01`` are accepted too, the resource shapes are the same for
what is implemented here).  See ``docs/azure-contract-server.md`` for what is
and is not reproduced.

Usage::

    from azure.mgmt.servicebus import ServiceBusManagementClient
    from tests.support.arm_servicebus import ArmServiceBusServer
    from tests.support.azure_credentials import FakeTokenCredential

    with ArmServiceBusServer() as srv:
        client = ServiceBusManagementClient(
            FakeTokenCredential(), srv.subscription_id, base_url=srv.base_url,
            **srv.sdk_client_kwargs(),
        )

``srv.sdk_client_kwargs()`` installs a per-call pipeline policy that lets the
SDK's bearer-token policy talk plain http (equivalent to passing
``enforce_https=False`` to every operation) and small retry settings.

Only the Python standard library is used.
"""

from __future__ import annotations

import base64
import collections
import copy
import datetime as _dt
import json
import re
import secrets
import threading
import uuid
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

__all__ = [
    "ArmServiceBusServer",
    "ArmError",
    "DEFAULT_API_VERSION",
    "SUPPORTED_API_VERSIONS",
    "TIMESPAN_MAX",
    "format_duration",
    "parse_duration",
]

DEFAULT_API_VERSION = "2026-01-01"
SUPPORTED_API_VERSIONS = (
    "2021-11-01",
    "2022-01-01-preview",
    "2022-10-01-preview",
    "2023-01-01-preview",
    "2024-01-01",
    "2025-05-01-preview",
    "2026-01-01",
)
DEFAULT_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"

# ---------------------------------------------------------------------------
# ISO 8601 durations, the way .NET's XmlConvert (TimeSpan) reads and writes them
# ---------------------------------------------------------------------------

TICKS_PER_SECOND = 10_000_000
TICKS_PER_MINUTE = 60 * TICKS_PER_SECOND
TICKS_PER_HOUR = 60 * TICKS_PER_MINUTE
TICKS_PER_DAY = 24 * TICKS_PER_HOUR
TIMESPAN_MAX_TICKS = 2**63 - 1
TIMESPAN_MAX = "P10675199DT2H48M5.4775807S"  # TimeSpan.MaxValue as the service prints it

_DURATION_RE = re.compile(
    r"^(?P<sign>-)?P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> int:
    """Parse an ISO 8601 duration into 100ns ticks (like ``XmlConvert.ToTimeSpan``).

    Years count as 365 days and months as 30 days, as in .NET.  Raises
    ``ValueError`` for malformed input or values outside TimeSpan's range.
    """
    if not isinstance(text, str):
        raise ValueError(f"duration must be a string, got {type(text).__name__}")
    m = _DURATION_RE.match(text.strip())
    if not m or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ValueError(f"'{text}' is not a valid ISO 8601 duration")
    g = m.groupdict()
    days = int(g["years"] or 0) * 365 + int(g["months"] or 0) * 30 + int(g["weeks"] or 0) * 7 + int(g["days"] or 0)
    try:
        seconds = Decimal(g["seconds"] or "0")
    except InvalidOperation as exc:  # pragma: no cover - regex guarantees digits
        raise ValueError(str(exc)) from exc
    ticks = (
        days * TICKS_PER_DAY
        + int(g["hours"] or 0) * TICKS_PER_HOUR
        + int(g["minutes"] or 0) * TICKS_PER_MINUTE
        + int((seconds * TICKS_PER_SECOND).to_integral_value())
    )
    if ticks > TIMESPAN_MAX_TICKS:
        raise ValueError(f"'{text}' is larger than the maximum TimeSpan value ({TIMESPAN_MAX})")
    return -ticks if g["sign"] else ticks


def format_duration(ticks: int) -> str:
    """Format ticks like ``XmlConvert.ToString(TimeSpan)``: ``PT1M``, ``P14D``, ``PT0.5S``."""
    if ticks == 0:
        return "PT0S"
    sign = "-" if ticks < 0 else ""
    ticks = abs(ticks)
    days, rem = divmod(ticks, TICKS_PER_DAY)
    hours, rem = divmod(rem, TICKS_PER_HOUR)
    minutes, rem = divmod(rem, TICKS_PER_MINUTE)
    seconds, frac = divmod(rem, TICKS_PER_SECOND)
    out = sign + "P"
    if days:
        out += f"{days}D"
    if hours or minutes or seconds or frac:
        out += "T"
        if hours:
            out += f"{hours}H"
        if minutes:
            out += f"{minutes}M"
        if seconds or frac:
            out += str(seconds)
            if frac:
                out += "." + f"{frac:07d}".rstrip("0")
            out += "S"
    return out


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

SB_HELP = "To know more visit https://aka.ms/sbResourceMgrExceptions."


class ArmError(Exception):
    """An ARM error response: ``{"error": {"code": ..., "message": ...}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _ts(when: _dt.datetime) -> str:
    # The service prints 7 fractional digits (.NET ticks)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _tracking(system_tracker: str) -> str:
    return f"TrackingId:{uuid.uuid4()}_G0, SystemTracker:{system_tracker}, Timestamp:{_now().strftime('%Y-%m-%dT%H:%M:%S')}"


def _sb_error(status: int, code: str, text: str, tracker: str = "NoSystemTracker") -> ArmError:
    """Errors produced by the Service Bus resource provider carry SubCode/TrackingId decorations."""
    sub = {400: "40000", 404: "40400", 409: "40900"}.get(status)
    prefix = f"SubCode={sub}. " if sub else ""
    return ArmError(status, code, f"{prefix}{text} {SB_HELP} {_tracking(tracker)}")


def _bad_request(text: str, tracker: str = "NoSystemTracker") -> ArmError:
    return _sb_error(400, "BadRequest", text, tracker)


# ---------------------------------------------------------------------------
# Name rules
# ---------------------------------------------------------------------------

_NAMESPACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$")
_ENTITY_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,258}[A-Za-z0-9])?$")  # queues / topics, 1-260
_CHILD_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,48}[A-Za-z0-9_])?$")  # subscriptions / rules, 1-50
_AUTH_RULE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,254}[A-Za-z0-9])?$")  # 1-256


def _check_name(kind: str, name: str, tracker: str) -> None:
    if kind == "Namespace":
        ok = bool(_NAMESPACE_RE.match(name)) and not re.search(r"-(sb|mgmt)$", name, re.I)
        rule = "between 6 and 50 characters, start with a letter, end with a letter or number, and contain only letters, numbers and hyphens"
    elif kind in ("Queue", "Topic"):
        ok = bool(_ENTITY_RE.match(name))
        rule = "between 1 and 260 characters, start and end with a letter or number, and contain only letters, numbers, periods, hyphens, underscores and forward slashes"
    elif kind == "Rule" and name == "$Default":
        ok = True
        rule = ""
    elif kind in ("Subscription", "Rule"):
        ok = bool(_CHILD_RE.match(name))
        rule = "between 1 and 50 characters, start with a letter or number, and contain only letters, numbers, periods, hyphens and underscores"
    else:
        ok = bool(_AUTH_RULE_RE.match(name))
        rule = "between 1 and 256 characters and contain only letters, numbers, periods, hyphens and underscores"
    if not ok:
        raise _bad_request(f"The specified {kind.lower()} name '{name}' is invalid. The name must be {rule}.", tracker)


# ---------------------------------------------------------------------------
# Entity property schemas (the JSON names come from the SDK models' attribute maps)
# ---------------------------------------------------------------------------

# kind -> (json type, default).  A default of None means "absent unless set".
# "sku:" defaults are resolved per namespace SKU in _defaults().
QUEUE_SCHEMA: dict[str, tuple[str, Any]] = {
    "lockDuration": ("duration", "PT1M"),
    "maxSizeInMegabytes": ("int", 1024),
    "maxMessageSizeInKilobytes": ("int", "sku:maxMessageSizeInKilobytes"),
    "requiresDuplicateDetection": ("bool", False),
    "requiresSession": ("bool", False),
    "defaultMessageTimeToLive": ("duration", "sku:defaultMessageTimeToLive"),
    "deadLetteringOnMessageExpiration": ("bool", False),
    "duplicateDetectionHistoryTimeWindow": ("duration", "PT10M"),
    "maxDeliveryCount": ("int", 10),
    "status": ("status", "Active"),
    "enableBatchedOperations": ("bool", True),
    "autoDeleteOnIdle": ("duration", TIMESPAN_MAX),
    "enablePartitioning": ("bool", False),
    "enableExpress": ("bool", False),
    "forwardTo": ("str", None),
    "forwardDeadLetteredMessagesTo": ("str", None),
    "userMetadata": ("str", None),
}
TOPIC_SCHEMA: dict[str, tuple[str, Any]] = {
    "defaultMessageTimeToLive": ("duration", TIMESPAN_MAX),
    "maxSizeInMegabytes": ("int", 1024),
    "maxMessageSizeInKilobytes": ("int", "sku:maxMessageSizeInKilobytes"),
    "requiresDuplicateDetection": ("bool", False),
    "duplicateDetectionHistoryTimeWindow": ("duration", "PT10M"),
    "enableBatchedOperations": ("bool", True),
    "status": ("status", "Active"),
    "supportOrdering": ("bool", True),
    "autoDeleteOnIdle": ("duration", TIMESPAN_MAX),
    "enablePartitioning": ("bool", False),
    "enableExpress": ("bool", False),
    "userMetadata": ("str", None),
}
SUBSCRIPTION_SCHEMA: dict[str, tuple[str, Any]] = {
    "lockDuration": ("duration", "PT1M"),
    "requiresSession": ("bool", False),
    "defaultMessageTimeToLive": ("duration", TIMESPAN_MAX),
    "deadLetteringOnFilterEvaluationExceptions": ("bool", True),
    "deadLetteringOnMessageExpiration": ("bool", False),
    "duplicateDetectionHistoryTimeWindow": ("duration", None),
    "maxDeliveryCount": ("int", 10),
    "status": ("status", "Active"),
    "enableBatchedOperations": ("bool", True),
    "autoDeleteOnIdle": ("duration", TIMESPAN_MAX),
    "forwardTo": ("str", None),
    "forwardDeadLetteredMessagesTo": ("str", None),
    "isClientAffine": ("bool", False),
    "clientAffineProperties": ("object", None),
    "userMetadata": ("str", None),
}
ALLOWED_STATUS = {
    "Queue": ("Active", "Disabled", "SendDisabled", "ReceiveDisabled"),
    "Topic": ("Active", "Disabled", "SendDisabled"),
    "Subscription": ("Active", "Disabled", "ReceiveDisabled"),
}
IMMUTABLE = {
    "Queue": ("requiresSession", "requiresDuplicateDetection", "enablePartitioning"),
    "Topic": ("requiresDuplicateDetection", "enablePartitioning"),
    "Subscription": ("requiresSession",),
}
SKU_TIERS = ("Basic", "Standard", "Premium")
STANDARD_SIZES = (1024, 2048, 3072, 4096, 5120)
ACCESS_RIGHTS = ("Manage", "Send", "Listen")
TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")


def _coerce(kind: str, prop: str, jtype: str, value: Any, entity: str) -> Any:
    def invalid() -> ArmError:
        return ArmError(
            400,
            "InvalidRequestContent",
            f"The request content was invalid and could not be deserialized: "
            f"'Error converting value {json.dumps(value)} for property 'properties.{prop}'.'",
        )

    if jtype == "bool":
        if not isinstance(value, bool):
            raise invalid()
        return value
    if jtype == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
                return int(value)
            raise invalid()
        return value
    if jtype == "duration":
        if not isinstance(value, str):
            raise invalid()
        try:
            return format_duration(parse_duration(value))
        except ValueError as exc:
            raise _bad_request(f"The value '{value}' of the {prop} property is invalid: {exc}.", entity) from None
    if jtype == "status":
        if not isinstance(value, str):
            raise invalid()
        for allowed in ALLOWED_STATUS[kind]:
            if allowed.lower() == value.lower():
                return allowed
        raise _bad_request(
            f"The status '{value}' is not valid for a {kind}. Allowed values: {', '.join(ALLOWED_STATUS[kind])}.", entity
        )
    if jtype == "str":
        if not isinstance(value, str):
            raise invalid()
        return value
    if jtype == "object":
        if not isinstance(value, dict):
            raise invalid()
        return copy.deepcopy(value)
    raise AssertionError(jtype)  # pragma: no cover


# ---------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Resource:
    """One stored resource: the name as first created, its properties and timestamps."""

    def __init__(self, name: str, properties: dict[str, Any]):
        self.name = name
        self.properties = properties
        self.created_at = _now()
        self.updated_at = self.created_at
        self.children: dict[str, dict[str, Resource]] = collections.defaultdict(dict)
        self.keys: tuple[str, str] | None = None
        self.counts: dict[str, int] = {}  # countDetails overrides (set_message_counts); the data plane is not modelled

    def child(self, collection: str, name: str) -> "Resource | None":
        return self.children[collection].get(name.lower())


class Namespace(Resource):
    def __init__(self, sub: str, rg: str, name: str, location: str, sku: dict[str, Any], tags: dict[str, str], properties: dict[str, Any]):
        super().__init__(name, properties)
        self.sub = sub
        self.rg = rg
        self.location = location
        self.sku = sku
        self.tags = tags

    @property
    def tier(self) -> str:
        return self.sku["tier"]


class State:
    """All resources of one server instance."""

    def __init__(self) -> None:
        self.namespaces: dict[tuple[str, str, str], Namespace] = {}

    def find_namespace(self, sub: str, rg: str, name: str) -> Namespace | None:
        return self.namespaces.get((sub.lower(), rg.lower(), name.lower()))

    def namespace_name_taken(self, sub: str, rg: str, name: str) -> bool:
        for (s, r, n) in self.namespaces:
            if n == name.lower() and (s, r) != (sub.lower(), rg.lower()):
                return True
        return False


RequestRecord = collections.namedtuple("RequestRecord", "method path query body")


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


class ArmServiceBusServer:
    """In-process ARM ``Microsoft.ServiceBus`` server on 127.0.0.1 (plain http).

    Test hooks: :meth:`throttle_next`, :attr:`request_log` (``RequestRecord``
    tuples ``(method, path, query, body)``), :attr:`response_log` (status codes,
    same order), :attr:`page_size`, :meth:`reset`.
    """

    def __init__(self, page_size: int = 2, subscription_id: str = DEFAULT_SUBSCRIPTION_ID, host: str = "127.0.0.1"):
        self.page_size = page_size
        self.subscription_id = subscription_id
        self.host = host
        self.state = State()
        self.request_log: list[RequestRecord] = []
        self.response_log: list[int] = []
        self._throttle_remaining = 0
        self._throttle_retry_after: float = 1
        self.read_lag = 0  # GETs that still see an entity's previous version after an update
        self._stale: dict[str, list] = {}
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------
    def start(self) -> "ArmServiceBusServer":
        server = self

        class Handler(_Handler):
            arm = server

        self._httpd = ThreadingHTTPServer((self.host, 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="arm-servicebus", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "ArmServiceBusServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- test hooks ------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.state = State()
            self.request_log.clear()
            self.response_log.clear()
            self._throttle_remaining = 0
            self.read_lag = 0
            self._stale.clear()

    def set_message_counts(self, resource_group: str, namespace: str, entity_path: str, **counts: int) -> None:
        """Pretend messages sit in an entity: ``entity_path`` is ``queue`` or ``topic/subscription``;
        ``counts`` are ``countDetails`` fields, e.g. ``activeMessageCount=3``. ``messageCount`` follows."""
        with self._lock:
            ns = self.state.find_namespace(self.subscription_id, resource_group, namespace)
            if ns is None:
                raise KeyError(namespace)
            parts = entity_path.split("/")
            if len(parts) == 1:
                entity = ns.child("queues", parts[0]) or ns.child("topics", parts[0])
            else:
                topic = ns.child("topics", parts[0])
                entity = topic.child("subscriptions", parts[1]) if topic is not None else None
            if entity is None:
                raise KeyError(entity_path)
            entity.counts.update(counts)

    def lag_reads(self, n: int) -> None:
        """Eventual consistency: after each update of a queue, topic or subscription, its next ``n``
        GETs still return the previous version (lists are not affected)."""
        with self._lock:
            self.read_lag = n

    def throttle_next(self, n: int, retry_after: float = 1) -> None:
        """The next ``n`` requests get ``429`` with ``Retry-After`` and an ARM error body."""
        with self._lock:
            self._throttle_remaining = n
            self._throttle_retry_after = retry_after

    def sdk_client_kwargs(self, retry_total: int = 3, retry_backoff_factor: float = 0.01) -> dict[str, Any]:
        """Constructor kwargs for ``ServiceBusManagementClient`` against this server.

        ``per_call_policies`` carries :class:`AllowHttpPolicy` (same effect as passing
        ``enforce_https=False`` to every call); the retry settings keep tests fast.
        """
        return {
            "per_call_policies": [AllowHttpPolicy()],
            "retry_total": retry_total,
            "retry_backoff_factor": retry_backoff_factor,
            "polling_interval": 0,
        }

    def requests_to(self, method: str, path_suffix: str) -> list[RequestRecord]:
        """Logged requests whose path ends with ``path_suffix`` (case-insensitive)."""
        return [r for r in list(self.request_log) if r.method == method and r.path.lower().endswith(path_suffix.lower())]

    # -- request handling (called by the handler threads) -----------------
    def handle(self, method: str, raw_path: str, headers: Any, raw_body: bytes) -> tuple[int, dict[str, str], Any]:
        split = urlsplit(raw_path)
        path = split.path
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        body: Any = None
        body_error: str | None = None
        if raw_body:
            try:
                body = json.loads(raw_body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                body_error = str(exc)
                body = raw_body.decode("utf-8", "replace")
        with self._lock:
            self.request_log.append(RequestRecord(method, path, query, body))
            try:
                auth = headers.get("Authorization")
                if not auth:
                    raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
                if not auth.startswith("Bearer ") or not auth[len("Bearer "):].strip():
                    raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")
                if self._throttle_remaining > 0:
                    self._throttle_remaining -= 1
                    ra = self._throttle_retry_after
                    raise ArmError(
                        429,
                        "TooManyRequests",
                        "The request is being throttled as the limit has been reached for operation type - "
                        f"{'Read' if method == 'GET' else 'Write'}. For more information, see - https://aka.ms/srpthrottlinglimits",
                        {"Retry-After": str(int(ra)) if float(ra).is_integer() else str(ra)},
                    )
                if body_error is not None:
                    raise ArmError(
                        400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: '{body_error}'."
                    )
                status, resp_headers, payload = _Router(self, method, path, query, body).dispatch()
            except ArmError as err:
                status, resp_headers, payload = err.status, dict(err.headers), err.body()
            self.response_log.append(status)
        return status, resp_headers, payload


class AllowHttpPolicy:
    """A SansIO pipeline policy that lets the SDK send bearer tokens over plain http.

    azure-core's ``BearerTokenCredentialPolicy`` refuses non-https URLs unless the
    request context has ``enforce_https=False`` (normally passed per call as
    ``client.queues.get(..., enforce_https=False)``).  Installed through the
    client constructor's ``per_call_policies`` it applies to every request,
    including pager follow-ups and LRO polls.
    """

    def on_request(self, request: Any) -> None:
        request.context["enforce_https"] = False

    def on_response(self, request: Any, response: Any) -> None:
        return None

    def on_exception(self, request: Any) -> None:
        return None


try:  # make it a real SansIOHTTPPolicy when azure-core is installed
    from azure.core.pipeline.policies import SansIOHTTPPolicy as _SansIO

    class AllowHttpPolicy(_SansIO):  # type: ignore[no-redef]
        __doc__ = AllowHttpPolicy.__doc__

        def on_request(self, request: Any) -> None:
            request.context["enforce_https"] = False

except ImportError:  # pragma: no cover - stdlib-only use of the server
    pass


class _Handler(BaseHTTPRequestHandler):
    arm: ArmServiceBusServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
        return None

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, headers, payload = self.arm.handle(self.command, self.path, self.headers, raw)
        data = b"" if payload is None else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        request_id = str(uuid.uuid4())
        self.send_header("x-ms-request-id", request_id)
        self.send_header("x-ms-correlation-request-id", self.headers.get("x-ms-client-request-id") or request_id)
        self.send_header("Cache-Control", "no-cache")
        for k, v in headers.items():
            self.send_header(k, v)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _serve


# ---------------------------------------------------------------------------
# Routing and resource semantics
# ---------------------------------------------------------------------------

PROVIDER = "microsoft.servicebus"


class _Router:
    def __init__(self, srv: ArmServiceBusServer, method: str, path: str, query: dict[str, str], body: Any):
        self.srv = srv
        self.state = srv.state
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.api_version = ""

    # -- helpers ---------------------------------------------------------
    def _check_api_version(self) -> None:
        version = self.query.get("api-version")
        if not version:
            raise ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
        if version not in SUPPORTED_API_VERSIONS:
            raise ArmError(
                400,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for location 'global' and API version '{version}' for type 'namespaces'. "
                f"The supported api-versions are '{', '.join(SUPPORTED_API_VERSIONS)}'.",
            )
        self.api_version = version

    def _not_allowed(self) -> ArmError:
        return ArmError(405, "MethodNotAllowed", f"The requested resource does not support http method '{self.method}'.")

    def _body_object(self) -> dict[str, Any]:
        if self.body is None:
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'The request body is required.'")
        if not isinstance(self.body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'Expected a JSON object.'")
        return self.body

    def _props_in(self) -> dict[str, Any]:
        body = self._body_object()
        props = body.get("properties")
        if props is None:
            return {}
        if not isinstance(props, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties must be an object.'")
        return props

    def _page(self, items: list[dict[str, Any]]) -> tuple[int, dict[str, str], Any]:
        try:
            start = int(self.query.get("$skipToken") or self.query.get("$skiptoken") or self.query.get("$skip") or 0)
            top = int(self.query["$top"]) if self.query.get("$top") else None
        except ValueError:
            raise ArmError(400, "BadRequest", "The value of $skip, $skipToken or $top is not a valid integer.") from None
        if top is not None and not 1 <= top <= 1000:
            raise _bad_request("The value of $top must be between 1 and 1000.")
        size = max(1, self.srv.page_size)
        if top is not None:
            size = min(size, top)
        page = items[start : start + size]
        out: dict[str, Any] = {"value": page}
        if start + size < len(items):
            q = {"api-version": self.api_version, "$skipToken": str(start + size)}
            if top is not None:
                q["$top"] = str(top)
            out["nextLink"] = f"{self.srv.base_url}{self.path}?{urlencode(q)}"  # path as received (still percent-encoded)
        return 200, {}, out

    # -- dispatch ----------------------------------------------------------
    def dispatch(self) -> tuple[int, dict[str, str], Any]:
        segs = [unquote(s) for s in self.path.split("/") if s]
        low = [s.lower() for s in segs]
        if len(segs) < 2 or low[0] != "subscriptions":
            raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{self.path}'.")
        sub = segs[1]
        self._check_api_version()
        # /subscriptions/{sub}/providers/Microsoft.ServiceBus/namespaces
        if low[2:] == ["providers", PROVIDER, "namespaces"]:
            if self.method != "GET":
                raise self._not_allowed()
            return self._page([self._namespace_json(ns) for ns in self._namespaces(sub)])
        if len(segs) < 4 or low[2] != "resourcegroups":
            raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{self.path}'.")
        rg = segs[3]
        if low[4:6] != ["providers", PROVIDER] or len(segs) < 7 or low[6] != "namespaces":
            raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{self.path}'.")
        if len(segs) == 7:
            if self.method != "GET":
                raise self._not_allowed()
            return self._page([self._namespace_json(ns) for ns in self._namespaces(sub, rg)])
        ns_name = segs[7]
        rest = segs[8:]
        lrest = low[8:]
        if not rest:
            return self._namespace(sub, rg, ns_name)
        ns = self.state.find_namespace(sub, rg, ns_name)
        if ns is None:
            child_type = "namespaces/" + rest[0]
            verb = {"GET": "read", "PUT": "write", "DELETE": "delete", "POST": "action", "PATCH": "write"}.get(self.method, "read")
            raise ArmError(
                404,
                "ParentResourceNotFound",
                f"Failed to perform '{verb}' on resource(s) of type '{child_type}', because the parent resource "
                f"'/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ServiceBus/namespaces/{ns_name}' could not be found.",
            )
        head = lrest[0]
        if head == "authorizationrules":
            return self._auth_rules(ns, ns, "Namespace", rest[1:], lrest[1:])
        if head in ("queues", "topics"):
            kind = "Queue" if head == "queues" else "Topic"
            if len(rest) == 1:
                if self.method != "GET":
                    raise self._not_allowed()
                if kind == "Topic" and ns.tier == "Basic":
                    raise self._basic_topics(ns)
                coll = ns.children[head]
                return self._page([self._entity_json(ns, kind, [e]) for e in _sorted(coll)])
            name = rest[1]
            if len(rest) == 2:
                return self._entity(ns, kind, ns, head, name, [])
            entity = ns.child(head, name)
            if entity is None:
                raise self._entity_not_found(ns, kind, name)
            if lrest[2] == "authorizationrules":
                return self._auth_rules(ns, entity, kind, rest[3:], lrest[3:])
            if kind == "Topic" and lrest[2] == "subscriptions":
                return self._subscriptions(ns, entity, rest[3:], lrest[3:])
        raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{self.path}'.")

    def _namespaces(self, sub: str, rg: str | None = None) -> list[Namespace]:
        out = [
            ns
            for (s, r, _), ns in self.state.namespaces.items()
            if s == sub.lower() and (rg is None or r == rg.lower())
        ]
        return sorted(out, key=lambda n: n.name.lower())

    # -- namespaces --------------------------------------------------------
    def _ns_id(self, ns: Namespace) -> str:
        return f"/subscriptions/{ns.sub}/resourceGroups/{ns.rg}/providers/Microsoft.ServiceBus/namespaces/{ns.name}"

    def _namespace_json(self, ns: Namespace) -> dict[str, Any]:
        props = {
            "minimumTlsVersion": ns.properties.get("minimumTlsVersion", "1.2"),
            "provisioningState": "Succeeded",
            "status": "Active",
            "createdAt": _ts(ns.created_at),
            "updatedAt": _ts(ns.updated_at),
            "serviceBusEndpoint": f"https://{ns.name.lower()}.servicebus.windows.net:443/",
            "metricId": f"{ns.sub}:{ns.name.lower()}",
            "zoneRedundant": ns.properties.get("zoneRedundant", False),
            "disableLocalAuth": ns.properties.get("disableLocalAuth", False),
            "publicNetworkAccess": ns.properties.get("publicNetworkAccess", "Enabled"),
            "privateEndpointConnections": [],
        }
        if ns.tier == "Premium":
            props["premiumMessagingPartitions"] = ns.properties.get("premiumMessagingPartitions", 1)
        sku = {"name": ns.sku["name"], "tier": ns.sku["tier"]}
        if ns.tier == "Premium":
            sku["capacity"] = ns.sku.get("capacity") or 1
        return {
            "sku": sku,
            "id": self._ns_id(ns),
            "name": ns.name,
            "type": "Microsoft.ServiceBus/Namespaces",
            "location": ns.location,
            "tags": dict(ns.tags),
            "properties": props,
        }

    def _parse_namespace_body(self, ns_name: str, existing: Namespace | None, patch: bool) -> tuple[str, dict[str, Any], dict[str, str], dict[str, Any]]:
        body = self._body_object()
        location = body.get("location")
        if not patch and not location:
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        if location is None and existing is not None:
            location = existing.location
        if existing is not None and location and _norm_loc(location) != _norm_loc(existing.location):
            raise ArmError(
                400,
                "InvalidResourceLocation",
                f"The resource '{ns_name}' already exists in location '{existing.location}' in resource group '{existing.rg}'. "
                "A resource with the same name cannot be created in location "
                f"'{location}'. Please select a new resource name.",
            )
        sku_in = body.get("sku")
        if sku_in is None:
            sku = dict(existing.sku) if (patch and existing) else {"name": "Standard", "tier": "Standard"}
        else:
            if not isinstance(sku_in, dict) or not isinstance(sku_in.get("name"), str):
                raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'sku.name is required.'")
            tier = next((t for t in SKU_TIERS if t.lower() == sku_in["name"].lower()), None)
            if tier is None:
                raise _bad_request(f"The SKU name '{sku_in['name']}' is invalid. Allowed values: Basic, Standard, Premium.", ns_name)
            sku = {"name": tier, "tier": tier}
            cap = sku_in.get("capacity")
            if tier == "Premium":
                if cap is not None and cap not in (1, 2, 4, 8, 16):
                    raise _bad_request(f"The capacity '{cap}' is invalid for a Premium namespace. Allowed values: 1, 2, 4, 8, 16.", ns_name)
                sku["capacity"] = cap or 1
        tags = body.get("tags")
        if tags is None:
            tags = dict(existing.tags) if (patch and existing) else {}
        if not isinstance(tags, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'tags must be an object.'")
        props_in = body.get("properties") or {}
        props: dict[str, Any] = dict(existing.properties) if (patch and existing) else {}
        for key in ("minimumTlsVersion", "disableLocalAuth", "publicNetworkAccess", "zoneRedundant", "premiumMessagingPartitions", "alternateName"):
            if props_in.get(key) is not None:
                props[key] = props_in[key]
        if "minimumTlsVersion" in props and props["minimumTlsVersion"] not in TLS_VERSIONS:
            raise _bad_request(f"The minimumTlsVersion '{props['minimumTlsVersion']}' is invalid. Allowed values: {', '.join(TLS_VERSIONS)}.", ns_name)
        if "disableLocalAuth" in props and not isinstance(props["disableLocalAuth"], bool):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties.disableLocalAuth must be a boolean.'")
        return location, sku, tags, props

    def _namespace(self, sub: str, rg: str, name: str) -> tuple[int, dict[str, str], Any]:
        ns = self.state.find_namespace(sub, rg, name)
        if self.method == "GET":
            if ns is None:
                raise ArmError(
                    404,
                    "ResourceNotFound",
                    f"The Resource 'Microsoft.ServiceBus/namespaces/{name}' under resource group '{rg}' was not found. "
                    "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                )
            return 200, {}, self._namespace_json(ns)
        if self.method in ("PUT", "PATCH"):
            patch = self.method == "PATCH"
            if patch and ns is None:
                raise ArmError(
                    404,
                    "ResourceNotFound",
                    f"The Resource 'Microsoft.ServiceBus/namespaces/{name}' under resource group '{rg}' was not found. "
                    "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                )
            _check_name("Namespace", name, name)
            if ns is None and self.state.namespace_name_taken(sub, rg, name):
                raise _sb_error(409, "Conflict", f"Namespace name '{name}' is not available. Namespace names are globally unique.", name)
            location, sku, tags, props = self._parse_namespace_body(name, ns, patch)
            if ns is not None:
                old, new = ns.tier, sku["tier"]
                if old != new and "Premium" in (old, new):
                    raise _bad_request(
                        f"Updating the SKU of namespace '{ns.name}' from {old} to {new} is not supported; use a migration instead.",
                        ns.name,
                    )
                if new == "Basic" and ns.children["topics"]:
                    raise _bad_request(f"Namespace '{ns.name}' cannot be changed to the Basic tier because it contains topics.", ns.name)
                if "zoneRedundant" in props and props.get("zoneRedundant") != ns.properties.get("zoneRedundant", props.get("zoneRedundant")):
                    raise _bad_request("The zoneRedundant property of an existing namespace cannot be changed.", ns.name)
                ns.sku, ns.tags, ns.properties = sku, tags, props
                ns.updated_at = _now()
                return 200, {}, self._namespace_json(ns)
            ns = Namespace(sub, rg, name, location, sku, tags, props)
            root = Resource("RootManageSharedAccessKey", {"rights": ["Listen", "Manage", "Send"]})
            root.keys = (_new_key(), _new_key())
            ns.children["authorizationrules"]["rootmanagesharedaccesskey"] = root
            self.state.namespaces[(sub.lower(), rg.lower(), name.lower())] = ns
            return 201, {}, self._namespace_json(ns)
        if self.method == "DELETE":
            if ns is None:
                return 204, {}, None
            del self.state.namespaces[(sub.lower(), rg.lower(), name.lower())]
            return 200, {}, None
        raise self._not_allowed()

    # -- queues / topics ----------------------------------------------------
    def _entity_id(self, ns: Namespace, kind: str, chain: list[Resource]) -> str:
        base = self._ns_id(ns)
        if kind in ("Queue", "Topic"):
            return f"{base}/{kind.lower()}s/{chain[0].name}"
        if kind == "Subscription":
            return f"{base}/topics/{chain[0].name}/subscriptions/{chain[1].name}"
        return f"{base}/topics/{chain[0].name}/subscriptions/{chain[1].name}/rules/{chain[2].name}"

    def _entity_json(self, ns: Namespace, kind: str, chain: list[Resource]) -> dict[str, Any]:
        res = chain[-1]
        props = {k: copy.deepcopy(v) for k, v in res.properties.items() if v is not None}
        if kind != "Rule":
            zero = {
                "activeMessageCount": 0,
                "deadLetterMessageCount": 0,
                "scheduledMessageCount": 0,
                "transferMessageCount": 0,
                "transferDeadLetterMessageCount": 0,
            }
            zero.update(res.counts)
            ro: dict[str, Any] = {
                "countDetails": zero,
                "createdAt": _ts(res.created_at),
                "updatedAt": _ts(res.updated_at),
                "accessedAt": "0001-01-01T00:00:00Z",
            }
            if kind in ("Queue", "Topic"):
                ro["sizeInBytes"] = 0
            if kind in ("Queue", "Subscription"):
                ro["messageCount"] = sum(zero.values())
            if kind == "Topic":
                ro["subscriptionCount"] = len(res.children["subscriptions"])
            props = {**ro, **props}
        type_ = {
            "Queue": "Microsoft.ServiceBus/namespaces/queues",
            "Topic": "Microsoft.ServiceBus/namespaces/topics",
            "Subscription": "Microsoft.ServiceBus/namespaces/topics/subscriptions",
            "Rule": "Microsoft.ServiceBus/namespaces/topics/subscriptions/rules",
        }[kind]
        return {
            "id": self._entity_id(ns, kind, chain),
            "name": res.name,
            "type": type_,
            "location": ns.location,
            "properties": props,
        }

    def _tracker(self, ns: Namespace, kind: str, name: str) -> str:
        return f"{ns.name.lower()}:{kind}:{name.lower()}"

    def _entity_not_found(self, ns: Namespace, kind: str, name: str) -> ArmError:
        tracker = self._tracker(ns, kind, name)
        return _sb_error(404, "NotFound", f"Entity '{tracker}' was not found.", tracker)

    def _basic_topics(self, ns: Namespace) -> ArmError:
        return _bad_request(
            f"Topics are not supported in the Basic tier. Namespace '{ns.name}' is a Basic namespace; upgrade it to Standard or Premium to use topics.",
            ns.name,
        )

    def _defaults(self, ns: Namespace, schema: dict[str, tuple[str, Any]]) -> dict[str, Any]:
        out = {}
        for prop, (_, default) in schema.items():
            if isinstance(default, str) and default.startswith("sku:"):
                key = default[4:]
                if key == "maxMessageSizeInKilobytes":
                    default = 1024 if ns.tier == "Premium" else 256
                elif key == "defaultMessageTimeToLive":
                    default = "P14D" if ns.tier == "Basic" else TIMESPAN_MAX
            out[prop] = default
        return out

    def _build_properties(self, ns: Namespace, kind: str, schema: dict[str, tuple[str, Any]], tracker: str) -> dict[str, Any]:
        """PUT semantics: start from the service defaults, apply what the client sent."""
        props_in = self._props_in()
        props = self._defaults(ns, schema)
        for key, value in props_in.items():
            if value is None or key not in schema:
                continue  # read-only and unknown properties are ignored, like ARM does
            props[key] = _coerce(kind, key, schema[key][0], value, tracker)
        return props

    def _validate_entity(self, ns: Namespace, kind: str, name: str, props: dict[str, Any], tracker: str) -> None:
        def dur(key: str) -> int | None:
            v = props.get(key)
            return None if v is None else parse_duration(v)

        lock = dur("lockDuration")
        if lock is not None and lock > 5 * TICKS_PER_MINUTE:
            raise _bad_request("The supplied lock time exceeds the allowed maximum of '5' minutes.", tracker)
        if lock is not None and lock < 5 * TICKS_PER_SECOND:
            raise _bad_request("The supplied lock time is below the allowed minimum of '5' seconds.", tracker)
        if "maxDeliveryCount" in props and props["maxDeliveryCount"] is not None and props["maxDeliveryCount"] < 1:
            raise _bad_request(
                f"The value '{props['maxDeliveryCount']}' for MaxDeliveryCount is invalid. It must be greater than or equal to 1.", tracker
            )
        idle = dur("autoDeleteOnIdle")
        if idle is not None and idle < 5 * TICKS_PER_MINUTE:
            raise _bad_request("The autoDeleteOnIdle value must be at least 5 minutes.", tracker)
        ttl = dur("defaultMessageTimeToLive")
        if ttl is not None and ttl <= 0:
            raise _bad_request("The defaultMessageTimeToLive value must be greater than zero.", tracker)
        if ttl is not None and ns.tier == "Basic" and ttl > 14 * TICKS_PER_DAY:
            raise _bad_request("The defaultMessageTimeToLive of an entity in a Basic namespace cannot exceed 14 days.", tracker)
        window = dur("duplicateDetectionHistoryTimeWindow")
        if window is not None and not (20 * TICKS_PER_SECOND <= window <= 7 * TICKS_PER_DAY):
            raise _bad_request("The duplicateDetectionHistoryTimeWindow must be between 20 seconds and 7 days.", tracker)
        if "maxSizeInMegabytes" in props:
            size = props["maxSizeInMegabytes"]
            if ns.tier == "Premium":
                ok = 1024 <= size <= 102400 and size % 1024 == 0
                allowed = "multiples of 1024 between 1024 and 102400"
            else:
                ok = size in STANDARD_SIZES
                allowed = ", ".join(map(str, STANDARD_SIZES))
            if not ok:
                raise _bad_request(f"The specified value '{size}' is invalid for maxSizeInMegabytes. Valid values are {allowed}.", tracker)
        if "maxMessageSizeInKilobytes" in props:
            kb = props["maxMessageSizeInKilobytes"]
            if ns.tier == "Premium":
                if not 1024 <= kb <= 102400:
                    raise _bad_request("maxMessageSizeInKilobytes must be between 1024 and 102400 in the Premium tier.", tracker)
            elif kb != 256:
                raise _bad_request("maxMessageSizeInKilobytes can only be set on entities in a Premium namespace.", tracker)
        if props.get("enableExpress") and ns.tier == "Premium":
            raise _bad_request("Express entities are not supported in the Premium tier.", tracker)
        if ns.tier == "Basic":
            for key, feature in (
                ("requiresSession", "Sessions"),
                ("requiresDuplicateDetection", "Duplicate detection"),
                ("forwardTo", "Auto-forwarding"),
                ("forwardDeadLetteredMessagesTo", "Auto-forwarding"),
            ):
                if props.get(key):
                    raise _bad_request(f"{feature} is not supported in the Basic tier.", tracker)
        for key in ("forwardTo", "forwardDeadLetteredMessagesTo"):
            target = props.get(key)
            if not target:
                continue
            if kind == "Queue" and target.lower() == name.lower():
                raise _bad_request(f"The entity '{name}' cannot forward messages to itself ({key}).", tracker)
            if ns.child("queues", target) is None and ns.child("topics", target) is None:
                raise _bad_request(
                    f"The {key} destination entity '{target}' does not exist in namespace '{ns.name}'. "
                    "Auto-forwarding destinations must be an existing queue or topic in the same namespace.",
                    tracker,
                )

    def _check_immutable(self, kind: str, existing: Resource, props: dict[str, Any], tracker: str) -> None:
        for key in IMMUTABLE[kind]:
            if bool(existing.properties.get(key)) != bool(props.get(key)):
                raise _bad_request(f"The value for the {key} property of an existing {kind} cannot be changed.", tracker)

    def _entity(self, ns: Namespace, kind: str, parent: Resource, collection: str, name: str, parents: list[Resource]) -> tuple[int, dict[str, str], Any]:
        """GET / PUT / DELETE of a queue, topic or subscription."""
        if kind == "Topic" and ns.tier == "Basic" and self.method != "DELETE":
            raise self._basic_topics(ns)
        tracker = self._tracker(ns, kind, name)
        existing = parent.child(collection, name)
        if self.method == "GET":
            if existing is None:
                raise self._entity_not_found(ns, kind, name)
            stale = self.srv._stale.get(self.path.lower())
            if stale is not None and stale[0] > 0:
                stale[0] -= 1
                return 200, {}, stale[1]
            return 200, {}, self._entity_json(ns, kind, parents + [existing])
        if self.method == "PUT":
            _check_name(kind, name, tracker)
            schema = {"Queue": QUEUE_SCHEMA, "Topic": TOPIC_SCHEMA, "Subscription": SUBSCRIPTION_SCHEMA}[kind]
            props = self._build_properties(ns, kind, schema, tracker)
            self._validate_entity(ns, kind, name, props, tracker)
            if kind in ("Queue", "Topic"):
                other = "topics" if kind == "Queue" else "queues"
                if ns.child(other, name) is not None:
                    other_kind = "Topic" if kind == "Queue" else "Queue"
                    raise _sb_error(
                        409,
                        "Conflict",
                        f"Entity '{ns.name.lower()}:{other_kind}:{name.lower()}' already exists as a {other_kind}; "
                        f"queues and topics share one name space in a namespace.",
                        tracker,
                    )
            if existing is not None:
                self._check_immutable(kind, existing, props, tracker)
                if self.srv.read_lag > 0:
                    self.srv._stale[self.path.lower()] = [self.srv.read_lag, self._entity_json(ns, kind, parents + [existing])]
                existing.properties = props
                existing.updated_at = _now()
                return 200, {}, self._entity_json(ns, kind, parents + [existing])
            res = Resource(name, props)
            parent.children[collection][name.lower()] = res
            if kind == "Subscription":
                default_rule = Resource(
                    "$Default",
                    {"action": {}, "filterType": "SqlFilter", "sqlFilter": {"sqlExpression": "1=1", "compatibilityLevel": 20}},
                )
                res.children["rules"]["$default"] = default_rule
            return 200, {}, self._entity_json(ns, kind, parents + [res])
        if self.method == "DELETE":
            if existing is None:
                return 204, {}, None
            del parent.children[collection][name.lower()]  # children (subscriptions, rules, auth rules) go with it
            return 200, {}, None
        raise self._not_allowed()

    # -- subscriptions and rules ----------------------------------------------
    def _subscriptions(self, ns: Namespace, topic: Resource, rest: list[str], lrest: list[str]) -> tuple[int, dict[str, str], Any]:
        if not rest:
            if self.method != "GET":
                raise self._not_allowed()
            return self._page([self._entity_json(ns, "Subscription", [topic, s]) for s in _sorted(topic.children["subscriptions"])])
        name = rest[0]
        if len(rest) == 1:
            return self._entity(ns, "Subscription", topic, "subscriptions", name, [topic])
        sub = topic.child("subscriptions", name)
        if sub is None:
            raise self._entity_not_found(ns, "Subscription", f"{topic.name}/Subscriptions/{name}")
        if lrest[1] != "rules":
            raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{self.path}'.")
        chain = [topic, sub]
        if len(rest) == 2:
            if self.method != "GET":
                raise self._not_allowed()
            return self._page([self._entity_json(ns, "Rule", chain + [r]) for r in _sorted(sub.children["rules"])])
        if len(rest) != 3:
            raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{self.path}'.")
        rule_name = rest[2]
        tracker = self._tracker(ns, "Rule", f"{topic.name}/{sub.name}/{rule_name}")
        existing = sub.child("rules", rule_name)
        if self.method == "GET":
            if existing is None:
                raise _sb_error(404, "NotFound", f"Entity '{tracker}' was not found.", tracker)
            return 200, {}, self._entity_json(ns, "Rule", chain + [existing])
        if self.method == "PUT":
            _check_name("Rule", rule_name, tracker)
            props = self._rule_properties(tracker)
            if existing is not None:
                existing.properties = props
                existing.updated_at = _now()
                return 200, {}, self._entity_json(ns, "Rule", chain + [existing])
            if len(sub.children["rules"]) >= 2000:
                raise _sb_error(400, "BadRequest", "The maximum number of rules (2000) for the subscription has been reached.", tracker)
            res = Resource(rule_name, props)
            sub.children["rules"][rule_name.lower()] = res
            return 200, {}, self._entity_json(ns, "Rule", chain + [res])
        if self.method == "DELETE":
            if existing is None:
                return 204, {}, None
            del sub.children["rules"][rule_name.lower()]
            return 200, {}, None
        raise self._not_allowed()

    def _rule_properties(self, tracker: str) -> dict[str, Any]:
        p = self._props_in()
        sql = p.get("sqlFilter")
        corr = p.get("correlationFilter")
        ftype = p.get("filterType")
        if ftype is None:
            ftype = "CorrelationFilter" if corr is not None and sql is None else "SqlFilter"
        match = next((t for t in ("SqlFilter", "CorrelationFilter") if isinstance(ftype, str) and t.lower() == ftype.lower()), None)
        if match is None:
            raise _bad_request(f"The filterType '{ftype}' is invalid. Allowed values: SqlFilter, CorrelationFilter.", tracker)
        out: dict[str, Any] = {"filterType": match}
        action = p.get("action")
        if action is None or action == {}:
            out["action"] = {}
        else:
            if not isinstance(action, dict):
                raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties.action must be an object.'")
            out["action"] = self._sql_block(action, "action", tracker, require_expression=False)
        if match == "SqlFilter":
            if not isinstance(sql, dict) or not isinstance(sql.get("sqlExpression"), str) or not sql["sqlExpression"].strip():
                raise _bad_request("A SqlFilter rule requires properties.sqlFilter.sqlExpression.", tracker)
            out["sqlFilter"] = self._sql_block(sql, "sqlFilter", tracker, require_expression=True)
        else:
            if not isinstance(corr, dict):
                raise _bad_request("A CorrelationFilter rule requires properties.correlationFilter.", tracker)
            keys = ("correlationId", "messageId", "to", "replyTo", "label", "sessionId", "replyToSessionId", "contentType")
            cf: dict[str, Any] = {}
            for k in keys:
                v = corr.get(k)
                if v is not None:
                    if not isinstance(v, str):
                        raise ArmError(400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: 'correlationFilter.{k} must be a string.'")
                    cf[k] = v
            user_props = corr.get("properties") or {}
            if not isinstance(user_props, dict):
                raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'correlationFilter.properties must be an object.'")
            if not cf and not user_props:
                raise _bad_request("A CorrelationFilter must have at least one system or user property set.", tracker)
            cf["properties"] = dict(user_props)
            if corr.get("requiresPreprocessing") is not None:
                cf["requiresPreprocessing"] = bool(corr["requiresPreprocessing"])
            out["correlationFilter"] = cf
        return out

    def _sql_block(self, block: dict[str, Any], what: str, tracker: str, require_expression: bool) -> dict[str, Any]:
        expr = block.get("sqlExpression")
        if expr is None and not require_expression:
            return {}
        if not isinstance(expr, str):
            raise ArmError(400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: '{what}.sqlExpression must be a string.'")
        if len(expr) > 1024:
            raise _bad_request(f"The {what} SQL expression exceeds the maximum length of 1024 characters.", tracker)
        out: dict[str, Any] = {"sqlExpression": expr, "compatibilityLevel": block.get("compatibilityLevel") or 20}
        if out["compatibilityLevel"] != 20:
            raise _bad_request(f"The compatibilityLevel '{out['compatibilityLevel']}' is invalid; the only supported value is 20.", tracker)
        if block.get("requiresPreprocessing") is not None:
            out["requiresPreprocessing"] = bool(block["requiresPreprocessing"])
        return out

    # -- authorization rules ------------------------------------------------
    def _auth_rule_json(self, ns: Namespace, owner: Resource, owner_kind: str, rule: Resource) -> dict[str, Any]:
        if owner_kind == "Namespace":
            rid = f"{self._ns_id(ns)}/AuthorizationRules/{rule.name}"
            rtype = "Microsoft.ServiceBus/Namespaces/AuthorizationRules"
        else:
            rid = f"{self._ns_id(ns)}/{owner_kind.lower()}s/{owner.name}/authorizationRules/{rule.name}"
            rtype = f"Microsoft.ServiceBus/Namespaces/{owner_kind}s/AuthorizationRules"
        return {"id": rid, "name": rule.name, "type": rtype, "location": ns.location, "properties": {"rights": list(rule.properties["rights"])}}

    def _keys_json(self, ns: Namespace, owner: Resource, owner_kind: str, rule: Resource) -> dict[str, Any]:
        assert rule.keys is not None
        entity = "" if owner_kind == "Namespace" else f";EntityPath={owner.name}"

        def cs(key: str) -> str:
            return f"Endpoint=sb://{ns.name.lower()}.servicebus.windows.net/;SharedAccessKeyName={rule.name};SharedAccessKey={key}{entity}"

        return {
            "primaryConnectionString": cs(rule.keys[0]),
            "secondaryConnectionString": cs(rule.keys[1]),
            "primaryKey": rule.keys[0],
            "secondaryKey": rule.keys[1],
            "keyName": rule.name,
        }

    def _auth_rules(self, ns: Namespace, owner: Resource, owner_kind: str, rest: list[str], lrest: list[str]) -> tuple[int, dict[str, str], Any]:
        coll = owner.children["authorizationrules"]
        if not rest:
            if self.method != "GET":
                raise self._not_allowed()
            return self._page([self._auth_rule_json(ns, owner, owner_kind, r) for r in _sorted(coll)])
        name = rest[0]
        tracker = f"{ns.name.lower()}:{owner_kind}:{owner.name.lower()}:AuthorizationRule:{name}"
        rule = coll.get(name.lower())
        if len(rest) == 2:
            if self.method != "POST":
                raise self._not_allowed()
            if rule is None:
                raise _sb_error(404, "NotFound", f"The authorization rule '{name}' was not found.", tracker)
            if lrest[1] == "listkeys":
                return 200, {}, self._keys_json(ns, owner, owner_kind, rule)
            if lrest[1] == "regeneratekeys":
                body = self._body_object()
                key_type = body.get("keyType")
                if key_type not in ("PrimaryKey", "SecondaryKey"):
                    raise _bad_request("keyType must be 'PrimaryKey' or 'SecondaryKey'.", tracker)
                new = body.get("key") or _new_key()
                assert rule.keys is not None
                rule.keys = (new, rule.keys[1]) if key_type == "PrimaryKey" else (rule.keys[0], new)
                return 200, {}, self._keys_json(ns, owner, owner_kind, rule)
            raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{self.path}'.")
        if len(rest) > 2:
            raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{self.path}'.")
        if self.method == "GET":
            if rule is None:
                raise _sb_error(404, "NotFound", f"The authorization rule '{name}' was not found.", tracker)
            return 200, {}, self._auth_rule_json(ns, owner, owner_kind, rule)
        if self.method == "PUT":
            _check_name("AuthorizationRule", name, tracker)
            props = self._props_in()
            rights_in = props.get("rights")
            if not isinstance(rights_in, list) or not rights_in:
                raise _bad_request("The rights property is required and must contain at least one of Listen, Send, Manage.", tracker)
            rights: list[str] = []
            for r in rights_in:
                canon = next((a for a in ACCESS_RIGHTS if isinstance(r, str) and a.lower() == r.lower()), None)
                if canon is None:
                    raise _bad_request(f"The access right '{r}' is invalid. Allowed values: Listen, Send, Manage.", tracker)
                if canon not in rights:
                    rights.append(canon)
            if "Manage" in rights and not {"Listen", "Send"} <= set(rights):
                raise _bad_request("The Manage right requires the Listen and Send rights as well.", tracker)
            if owner_kind == "Namespace" and rule is not None and rule.name == "RootManageSharedAccessKey" and set(rights) != set(ACCESS_RIGHTS):
                raise _bad_request("The rights of RootManageSharedAccessKey cannot be changed.", tracker)
            if rule is not None:
                rule.properties = {"rights": rights}
                rule.updated_at = _now()
                return 200, {}, self._auth_rule_json(ns, owner, owner_kind, rule)
            if len(coll) >= 12:
                raise _bad_request("The maximum number of authorization rules (12) has been reached.", tracker)
            rule = Resource(name, {"rights": rights})
            rule.keys = (_new_key(), _new_key())
            coll[name.lower()] = rule
            return 200, {}, self._auth_rule_json(ns, owner, owner_kind, rule)
        if self.method == "DELETE":
            if rule is None:
                return 204, {}, None
            del coll[name.lower()]
            return 200, {}, None
        raise self._not_allowed()


def _sorted(coll: dict[str, Resource]) -> list[Resource]:
    return [coll[k] for k in sorted(coll)]


def _norm_loc(location: str) -> str:
    return location.replace(" ", "").lower()
