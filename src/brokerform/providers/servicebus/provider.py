"""Azure Service Bus through Azure Resource Manager (azure-mgmt-servicebus + azure-identity).

Why it looks the way it does:
- ARM's create-or-update replaces the whole entity: every PUT carries the declared
  properties over the entity's LIVE values, so a property the manifest leaves out is
  never reset to the service default behind the user's back.
- ARM is eventually consistent: after a write we poll GET (bounded) until it returns
  what we wrote; after a delete, until it returns 404.
- Throttling: the SDK's retry policy honours 429 Retry-After; when its retries run out
  the error becomes a transient ProviderError carrying retry_after, and the executor
  retries the change.
- Tests and sovereign clouds set `endpoint`; plain http is allowed only for a loopback
  endpoint with BROKERFORM_AZURE_ALLOW_HTTP=1. The credential comes from
  `set_credential_factory` (tests), else the target's service principal, else
  DefaultAzureCredential.
- lock(): ARM has no lease or mutex for a namespace (resource locks only forbid
  writes/deletes), so apply uses the base class's file lock, keyed by
  subscription/resource group/namespace: concurrent applies from one machine are
  serialised; across machines, serialise in CI (e.g. a concurrency group).
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.servicebus import ServiceBusManagementClient
from azure.mgmt.servicebus import models as sbm

from brokerform.errors import ProviderError
from brokerform.plan.model import Action, Change
from brokerform.providers.base import Capabilities, FieldPolicy, Provider
from brokerform.providers.servicebus.compile import (
    DEFAULT_RULE,
    DURATION_PROPERTIES,
    IMMUTABLE,
    ROOT_KEY,
    limit_problems,
)
from brokerform.providers.servicebus.durations import iso_to_ms, ms_to_iso
from brokerform.resources import Address, Resource
from brokerform.secrets import resolve_secret

DEFAULT_ENDPOINT = "https://management.azure.com"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
ENTITY_KINDS = ("queue", "topic", "subscription")

# Writable ARM properties per kind: what a PUT carries (declared over live).
WRITABLE: dict[str, tuple[str, ...]] = {
    "queue": (
        "lockDuration", "maxSizeInMegabytes", "maxMessageSizeInKilobytes", "requiresDuplicateDetection",
        "requiresSession", "defaultMessageTimeToLive", "deadLetteringOnMessageExpiration",
        "duplicateDetectionHistoryTimeWindow", "maxDeliveryCount", "status", "enableBatchedOperations",
        "autoDeleteOnIdle", "enablePartitioning", "enableExpress", "forwardTo", "forwardDeadLetteredMessagesTo",
        "userMetadata",
    ),
    "topic": (
        "defaultMessageTimeToLive", "maxSizeInMegabytes", "maxMessageSizeInKilobytes", "requiresDuplicateDetection",
        "duplicateDetectionHistoryTimeWindow", "enableBatchedOperations", "status", "supportOrdering",
        "autoDeleteOnIdle", "enablePartitioning", "enableExpress", "userMetadata",
    ),
    "subscription": (
        "lockDuration", "requiresSession", "defaultMessageTimeToLive", "deadLetteringOnFilterEvaluationExceptions",
        "deadLetteringOnMessageExpiration", "duplicateDetectionHistoryTimeWindow", "maxDeliveryCount", "status",
        "enableBatchedOperations", "autoDeleteOnIdle", "forwardTo", "forwardDeadLetteredMessagesTo",
        "isClientAffine", "clientAffineProperties", "userMetadata",
    ),
}
NAMESPACE_WRITABLE = ("minimumTlsVersion", "disableLocalAuth", "publicNetworkAccess", "zoneRedundant",
                      "premiumMessagingPartitions", "alternateName")
NAMESPACE_FIELDS = {"minimumTlsVersion": "minimumTlsVersion", "disableLocalAuth": "disableLocalAuth",
                    "zoneRedundant": "zoneRedundant"}
CORRELATION_KEYS = ("correlationId", "messageId", "to", "replyTo", "label", "sessionId", "replyToSessionId",
                    "contentType")
SYNTHETIC = ("keepDefaultRule",)


# -- credential and transport seams ------------------------------------------------
CredentialFactory = Callable[[Any, "Path | None"], Any]
_credential_factory: CredentialFactory | None = None


def set_credential_factory(factory: CredentialFactory | None) -> None:
    """Use `factory(target, base_dir)` for every new client (tests inject a fake token credential)."""
    global _credential_factory
    _credential_factory = factory


def default_credential(target: Any, base_dir: Path | None) -> Any:
    """The target's service principal (secret by reference), else DefaultAzureCredential."""
    if target.credential is not None:
        from azure.identity import ClientSecretCredential

        secret = resolve_secret(target.credential.client_secret, base_dir)
        return ClientSecretCredential(target.credential.tenant_id, target.credential.client_id, secret)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


class AllowHttpPolicy(SansIOHTTPPolicy):
    """Let the bearer-token policy talk plain http (only installed for loopback endpoints)."""

    def on_request(self, request: Any) -> None:
        request.context["enforce_https"] = False


def transport_kwargs(endpoint: str) -> dict[str, Any]:
    """Client kwargs for an endpoint; refuses plain http except loopback with the opt-in variable."""
    parts = urlsplit(endpoint)
    if parts.scheme == "https":
        return {}
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        if os.environ.get("BROKERFORM_AZURE_ALLOW_HTTP") == "1":
            return {"per_call_policies": [AllowHttpPolicy()]}
        raise ProviderError(f"endpoint {endpoint} is plain http; set BROKERFORM_AZURE_ALLOW_HTTP=1 to allow it "
                            "for a local ARM contract server")
    raise ProviderError(f"endpoint {endpoint} must be an https URL (plain http is allowed only on 127.0.0.1)")


def make_client(target: Any, base_dir: Path | None) -> ServiceBusManagementClient:
    endpoint = (target.endpoint or DEFAULT_ENDPOINT).rstrip("/")
    kwargs = transport_kwargs(endpoint)
    factory = _credential_factory or default_credential
    return ServiceBusManagementClient(
        factory(target, base_dir),
        target.subscription_id,
        base_url=endpoint,
        retry_total=int(os.environ.get("BROKERFORM_AZURE_RETRY_TOTAL", "4")),
        **kwargs,
    )


# -- error mapping ---------------------------------------------------------------------
def provider_error(what: str, exc: Exception) -> ProviderError:
    """An SDK exception as a ProviderError: 429/5xx/connection problems are transient."""
    if isinstance(exc, ClientAuthenticationError):
        return ProviderError(f"{what}: Azure authentication failed: {_short(str(exc))}")
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return ProviderError(f"{what}: cannot reach Azure Resource Manager: {_short(str(exc))}", transient=True)
    if isinstance(exc, HttpResponseError):
        status = exc.status_code or 0
        code = getattr(getattr(exc, "error", None), "code", None) or str(status)
        retry_after = None
        if exc.response is not None and exc.response.headers.get("Retry-After"):
            try:
                retry_after = float(exc.response.headers["Retry-After"])
            except ValueError:
                retry_after = None
        transient = status in (408, 429) or status >= 500
        message = getattr(getattr(exc, "error", None), "message", None) or exc.message or str(exc)
        return ProviderError(f"{what}: {code}: {_short(message)}", transient=transient, retry_after=retry_after)
    return ProviderError(f"{what}: {type(exc).__name__}: {exc}")


def _short(message: str) -> str:
    """Drop ARM's tracking decorations (they differ per call and bury the reason)."""
    for marker in (" To know more visit", " TrackingId:"):
        if marker in message:
            message = message.split(marker, 1)[0]
    if message.startswith("SubCode="):
        message = message.split(". ", 1)[-1]
    return message.strip().splitlines()[0] if message.strip() else message


# -- live <-> desired shapes -------------------------------------------------------------
def normalise_value(key: str, value: Any) -> Any:
    leaf = key.rsplit(".", 1)[-1]
    if value is None:
        return None
    if leaf in DURATION_PROPERTIES:
        try:
            return iso_to_ms(value)
        except (ValueError, TypeError):
            return value
    if leaf == "location" and isinstance(value, str):
        return value.replace(" ", "").lower()
    return value


def live_entity(kind: str, data: dict[str, Any]) -> Resource | None:
    """Normalised properties of a queue, topic or subscription (read-only fields dropped)."""
    raw = dict(data.get("properties") or {})
    props = {}
    for key in WRITABLE[kind]:
        if raw.get(key) is None or key in ("clientAffineProperties", "userMetadata"):
            continue
        props[key] = normalise_value(key, raw[key])
    meta: dict[str, Any] = {"arm": {k: raw[k] for k in WRITABLE[kind] if raw.get(k) is not None}}
    if kind in ("queue", "subscription"):
        meta["messages"] = message_count(raw)
    return Resource(Address("", kind, "", data["name"]), props, meta=meta)


def message_count(raw: dict[str, Any]) -> int | None:
    details = raw.get("countDetails") or {}
    counted = [details.get(k) for k in ("activeMessageCount", "deadLetterMessageCount", "scheduledMessageCount",
                                         "transferMessageCount", "transferDeadLetterMessageCount")]
    if any(c is not None for c in counted):
        return sum(c or 0 for c in counted)
    return raw.get("messageCount")


def live_rule(data: dict[str, Any]) -> dict[str, Any]:
    raw = data.get("properties") or {}
    ftype = raw.get("filterType") or ("CorrelationFilter" if raw.get("correlationFilter") else "SqlFilter")
    props: dict[str, Any] = {"filterType": ftype}
    if ftype == "SqlFilter":
        props["sqlExpression"] = (raw.get("sqlFilter") or {}).get("sqlExpression")
    else:
        corr = raw.get("correlationFilter") or {}
        props["correlation"] = {k: corr[k] for k in CORRELATION_KEYS if corr.get(k) is not None}
        if corr.get("properties"):
            props["correlation"]["properties"] = dict(corr["properties"])
    action = (raw.get("action") or {}).get("sqlExpression")
    if action:
        props["action"] = action
    return props


def rule_body(props: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"filterType": props["filterType"]}
    if props["filterType"] == "SqlFilter":
        body["sqlFilter"] = {"sqlExpression": props["sqlExpression"]}
    else:
        body["correlationFilter"] = dict(props.get("correlation") or {})
    if props.get("action"):
        body["action"] = {"sqlExpression": props["action"]}
    return {"properties": body}


def entity_body(kind: str, desired: dict[str, Any], live_arm: dict[str, Any] | None, tier: str | None) -> dict[str, Any]:
    """The full PUT body: live writable values, overlaid with every declared property."""
    body = {k: v for k, v in (live_arm or {}).items() if k in WRITABLE[kind]}
    if tier != "Premium":
        body.pop("maxMessageSizeInKilobytes", None)  # a Premium-only property; the service fills it in
    for key, value in desired.items():
        if key in SYNTHETIC:
            continue
        body[key] = ms_to_iso(value) if key in DURATION_PROPERTIES and isinstance(value, int) else value
    return {"properties": body}


def plain(value: Any) -> Any:
    """SDK models are MutableMappings over the raw JSON: turn them into plain dicts and lists."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _same(key: str, want: Any, have: Any) -> bool:
    from brokerform.plan.planner import comparable

    return comparable(normalise_value(key, want)) == comparable(normalise_value(key, have))


class ServiceBusProvider(Provider):
    type = "azure-servicebus"

    def __init__(self, name: str, target: Any, base_dir: Path | None = None):
        super().__init__(name, target, base_dir)
        self._client_instance: ServiceBusManagementClient | None = None
        self.live_tier: str | None = None
        self._replaced: dict[Address, dict[str, Any]] = {}
        self.consistency_timeout = float(os.environ.get("BROKERFORM_AZURE_CONSISTENCY_TIMEOUT", "30"))

    # -- plumbing ------------------------------------------------------------------
    @property
    def client(self) -> ServiceBusManagementClient:
        if self._client_instance is None:
            self._client_instance = make_client(self.target, self.base_dir)
        return self._client_instance

    @property
    def rg(self) -> str:
        return self.target.resource_group

    @property
    def ns(self) -> str:
        return self.target.namespace_name

    def close(self) -> None:
        if self._client_instance is not None:
            self._client_instance.close()
            self._client_instance = None

    def lock_key(self) -> str:
        return f"{self.target.subscription_id}/{self.rg}/{self.ns}".lower()

    def capabilities(self) -> Capabilities:
        return Capabilities(
            broker_lock="local file lock keyed by subscription/resource group/namespace (ARM has no lease)",
            max_parallelism=8,
            notes=["create-or-update sends the full entity: undeclared properties keep their live values"],
        )

    def _call(self, what: str, func: Callable, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ResourceNotFoundError:
            raise
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes a ProviderError
            if isinstance(exc, ProviderError):
                raise
            raise provider_error(what, exc) from None

    def _list(self, what: str, pager_factory: Callable[[], Iterable]) -> list[dict[str, Any]]:
        return self._call(what, lambda: [plain(item) for item in pager_factory()])

    # -- field policy ------------------------------------------------------------------
    def field_policy(self, kind: str) -> FieldPolicy:
        if kind in ENTITY_KINDS:
            return FieldPolicy(immutable=IMMUTABLE[kind], managed=(), normalise=normalise_value,
                               holds_data=kind in ("queue", "subscription"))
        if kind == "namespace":
            return FieldPolicy(managed=(), normalise=normalise_value, blocked=_namespace_blocked, holds_data=True)
        return FieldPolicy(managed=("*",), normalise=normalise_value)

    # -- read ------------------------------------------------------------------------------
    def read(self) -> list[Resource]:
        """Namespace, queues, topics, subscriptions, rules and authorization rules (all pages)."""
        c = self.client
        namespace = self._read_namespace()
        if namespace is None:
            return []
        out: list[Resource] = []
        if self.target.namespace_settings.manage:
            out.append(namespace)
        queues = [q for q in self._list("list queues", lambda: c.queues.list_by_namespace(self.rg, self.ns))
                  if self._in_scope(q["name"])]
        topics = []
        if self.live_tier != "Basic":  # a Basic namespace answers 400 to any topic call, even a list
            topics = [t for t in self._list("list topics", lambda: c.topics.list_by_namespace(self.rg, self.ns))
                      if self._in_scope(t["name"])]
        ns_rules = self._list("list namespace authorization rules",
                              lambda: c.namespaces.list_authorization_rules(self.rg, self.ns))
        for rule in ns_rules:
            if rule["name"].lower() != ROOT_KEY.lower() and self._in_scope(rule["name"]):
                out.append(self._auth_resource("", rule))
        jobs: list[Callable[[], list[Resource]]] = []
        for queue in queues:
            out.append(self._entity_resource("queue", "", queue))
            jobs.append(lambda name=queue["name"]: self._read_entity_auth_rules("queues", name))
        for topic in topics:
            out.append(self._entity_resource("topic", "", topic))
            jobs.append(lambda name=topic["name"]: self._read_entity_auth_rules("topics", name))
            jobs.append(lambda name=topic["name"]: self._read_subscriptions(name))
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            for resources in pool.map(lambda job: job(), jobs):
                out.extend(resources)
        return out

    def _read_namespace(self) -> Resource | None:
        try:
            data = plain(self._call("get namespace", self.client.namespaces.get, self.rg, self.ns))
        except ResourceNotFoundError:
            if self.target.namespace_settings.manage:
                self.live_tier = None
                return None
            raise ProviderError(
                f"namespace {self.ns!r} was not found in resource group {self.rg!r} "
                "(create it, or set namespace_settings.manage: true)"
            ) from None
        sku = data.get("sku") or {}
        raw = data.get("properties") or {}
        self.live_tier = sku.get("tier") or sku.get("name")
        props: dict[str, Any] = {"sku": sku.get("name"), "location": normalise_value("location", data.get("location"))}
        if sku.get("capacity") is not None and self.live_tier == "Premium":
            props["capacity"] = sku["capacity"]
        for arm in NAMESPACE_FIELDS:
            if raw.get(arm) is not None:
                props[arm] = raw[arm]
        meta = {"arm": {k: raw[k] for k in NAMESPACE_WRITABLE if raw.get(k) is not None}, "tags": data.get("tags") or {},
                "location": data.get("location"), "messages": None}
        return Resource(Address(self.name, "namespace", "", data["name"]), props, meta=meta)

    def _in_scope(self, name: str) -> bool:
        prefix = self.target.scope.name_prefix
        return not prefix or name.startswith(prefix)

    def _entity_resource(self, kind: str, scope: str, data: dict[str, Any]) -> Resource:
        resource = live_entity(kind, data)
        resource.address = Address(self.name, kind, scope, data["name"])
        return resource

    def _auth_resource(self, scope: str, data: dict[str, Any]) -> Resource:
        rights = sorted((data.get("properties") or {}).get("rights") or [])
        return Resource(Address(self.name, "authorization_rule", scope, data["name"]), {"rights": rights})

    def _read_entity_auth_rules(self, collection: str, entity: str) -> list[Resource]:
        ops = self.client.queues if collection == "queues" else self.client.topics
        try:
            rules = self._list(f"list authorization rules of {entity}",
                               lambda: ops.list_authorization_rules(self.rg, self.ns, entity))
        except ResourceNotFoundError:
            return []  # deleted between the two list calls
        parent = [Address(self.name, "queue" if collection == "queues" else "topic", "", entity)]
        out = [self._auth_resource(f"{collection}/{entity}", r) for r in rules]
        for resource in out:  # deleted with its entity: the planner re-creates an unmanaged one on a replace
            resource.depends_on = parent
        return out

    def _read_subscriptions(self, topic: str) -> list[Resource]:
        try:
            subs = self._list(f"list subscriptions of {topic}",
                              lambda: self.client.subscriptions.list_by_topic(self.rg, self.ns, topic))
        except ResourceNotFoundError:
            return []
        out: list[Resource] = []
        for sub in subs:
            resource = self._entity_resource("subscription", topic, sub)
            resource.depends_on = [Address(self.name, "topic", "", topic)]  # live dependants die with their parent
            try:
                rules = self._list(f"list rules of {topic}/{sub['name']}",
                                   lambda: self.client.rules.list_by_subscriptions(self.rg, self.ns, topic, sub["name"]))
            except ResourceNotFoundError:
                rules = []
            resource.properties["keepDefaultRule"] = any(r["name"] == DEFAULT_RULE for r in rules)
            out.append(resource)
            out.extend(Resource(Address(self.name, "rule", f"{topic}/{sub['name']}", r["name"]), live_rule(r),
                                [resource.address]) for r in rules)
        return out

    def load_data_counts(self, resources: list[Resource]) -> None:
        """Counts come with every read (countDetails); fetch only what a read did not return."""
        for resource in resources:
            if resource.address.kind in ("queue", "subscription") and "messages" not in resource.meta:
                try:
                    data = self._get(resource.address)
                except ResourceNotFoundError:
                    resource.meta["messages"] = 0
                    continue
                resource.meta["messages"] = message_count(plain(data).get("properties") or {})

    # -- plan checks ---------------------------------------------------------------------
    def plan_checks(self, changes: list[Change], desired: dict[Address, Resource], live: dict[Address, Resource]) -> None:
        """Block creates/updates the LIVE namespace tier cannot take (compile checked the declared tier)."""
        if self.live_tier is None or self.live_tier == self.target.namespace_settings.sku:
            return
        for change in changes:
            if change.action not in (Action.CREATE, Action.UPDATE, Action.REPLACE) or change.desired is None:
                continue
            kind = change.address.kind
            if kind not in ENTITY_KINDS:
                continue
            problems = limit_problems(kind, change.desired.properties, self.live_tier)
            if problems:
                change.action = Action.BLOCKED
                change.blocked_reason = (f"the live namespace is {self.live_tier}: "
                                         + "; ".join(m for _, m in problems))

    # -- apply -----------------------------------------------------------------------------
    def apply(self, change: Change) -> None:
        kind = change.address.kind
        if change.action is Action.DELETE:
            if change.live is not None and change.live.meta.get("arm") is not None:
                self._replaced[change.address] = change.live.meta["arm"]
            self._delete(change.address)
            return
        if change.action not in (Action.CREATE, Action.UPDATE, Action.REPLACE):
            return
        assert change.desired is not None
        if kind == "namespace":
            self._put_namespace(change)
        elif kind in ENTITY_KINDS:
            self._put_entity(change)
        elif kind == "rule":
            self._put_and_settle(change.address, rule_body(change.desired.properties),
                                 lambda data: live_rule(data), change.desired.properties)
        elif kind == "authorization_rule":
            body = {"properties": {"rights": change.desired.properties["rights"]}}
            self._put_and_settle(change.address, body,
                                 lambda data: {"rights": sorted((data.get("properties") or {}).get("rights") or [])},
                                 change.desired.properties)
        else:
            raise ProviderError(f"unknown resource kind {kind!r}")

    def _put_entity(self, change: Change) -> None:
        kind = change.address.kind
        live_arm = None
        if change.live is not None:
            live_arm = change.live.meta.get("arm")
            if live_arm is None:
                live_arm = live_entity(kind, plain(self._get(change.address))).meta["arm"]
        else:
            live_arm = self._replaced.pop(change.address, None)  # the create half of a replace keeps the rest
        desired = change.desired.properties
        body = entity_body(kind, desired, live_arm, self.live_tier or self.target.namespace_settings.sku)
        declared = {k: v for k, v in desired.items() if k not in SYNTHETIC}
        self._put_and_settle(change.address, body, lambda data: (data.get("properties") or {}), declared)
        if kind == "subscription" and desired.get("keepDefaultRule") is False:
            was_kept = change.live is None or change.live.properties.get("keepDefaultRule", True)
            if was_kept:
                topic, sub = change.address.scope, change.address.name
                self._delete(Address(self.name, "rule", f"{topic}/{sub}", DEFAULT_RULE))

    def _put_namespace(self, change: Change) -> None:
        desired = change.desired.properties
        live_meta = change.live.meta if change.live is not None else {}
        props = dict(live_meta.get("arm") or {})
        for arm in NAMESPACE_FIELDS:
            if arm in desired:
                props[arm] = desired[arm]
        sku: dict[str, Any] = {"name": desired["sku"], "tier": desired["sku"]}
        if desired.get("capacity") is not None:
            sku["capacity"] = desired["capacity"]
        location = live_meta.get("location") or desired.get("location")
        body = sbm.SBNamespace({"location": location, "sku": sku, "tags": live_meta.get("tags") or {},
                                "properties": props})
        poller = self._call(f"create or update namespace {self.ns}", self.client.namespaces.begin_create_or_update,
                            self.rg, self.ns, body)
        self._call(f"create or update namespace {self.ns}", poller.result)
        self.live_tier = desired["sku"]

    def _put_and_settle(self, address: Address, body: dict[str, Any], view: Callable[[dict], dict],
                        expected: dict[str, Any]) -> None:
        """PUT, then poll GET until ARM returns the declared values (bounded)."""
        what = f"create or update {address.kind} {_label(address)}"
        self._call(what, self._put, address, body)
        deadline = time.monotonic() + self.consistency_timeout
        delay = 0.2
        while True:
            try:
                current = view(plain(self._get(address)))
            except ResourceNotFoundError:
                current = None
            if current is not None and all(_same(k, v, _dig(current, k)) for k, v in _flat(expected).items()):
                return
            if time.monotonic() >= deadline:
                raise ProviderError(f"{what}: ARM still returns the old values after {self.consistency_timeout:.0f}s",
                                    transient=True)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _delete(self, address: Address) -> None:
        """Delete (204 for a missing entity is fine), then poll until GET says 404 (bounded)."""
        what = f"delete {address.kind} {_label(address)}"
        try:
            self._call(what, self._delete_call, address)
        except ResourceNotFoundError:
            return  # its parent is gone already (e.g. the rules of a deleted topic)
        deadline = time.monotonic() + self.consistency_timeout
        delay = 0.2
        while True:
            try:
                self._call(what, self._get, address)
            except ResourceNotFoundError:
                return
            if time.monotonic() >= deadline:
                raise ProviderError(f"{what}: still present after {self.consistency_timeout:.0f}s", transient=True)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    # -- per-kind SDK calls ------------------------------------------------------------------
    def _get(self, address: Address) -> Any:
        c, kind, scope, name = self.client, address.kind, address.scope, address.name
        if kind == "namespace":
            return c.namespaces.get(self.rg, self.ns)
        if kind == "queue":
            return c.queues.get(self.rg, self.ns, name)
        if kind == "topic":
            return c.topics.get(self.rg, self.ns, name)
        if kind == "subscription":
            return c.subscriptions.get(self.rg, self.ns, scope, name)
        if kind == "rule":
            topic, sub = scope.split("/", 1)
            return c.rules.get(self.rg, self.ns, topic, sub, name)
        if kind == "authorization_rule":
            if not scope:
                return c.namespaces.get_authorization_rule(self.rg, self.ns, name)
            collection, entity = scope.split("/", 1)
            ops = c.queues if collection == "queues" else c.topics
            return ops.get_authorization_rule(self.rg, self.ns, entity, name)
        raise ProviderError(f"unknown resource kind {kind!r}")

    def _put(self, address: Address, body: dict[str, Any]) -> Any:
        c, kind, scope, name = self.client, address.kind, address.scope, address.name
        if kind == "queue":
            return c.queues.create_or_update(self.rg, self.ns, name, sbm.SBQueue(body))
        if kind == "topic":
            return c.topics.create_or_update(self.rg, self.ns, name, sbm.SBTopic(body))
        if kind == "subscription":
            return c.subscriptions.create_or_update(self.rg, self.ns, scope, name, sbm.SBSubscription(body))
        if kind == "rule":
            topic, sub = scope.split("/", 1)
            return c.rules.create_or_update(self.rg, self.ns, topic, sub, name, sbm.Rule(body))
        if kind == "authorization_rule":
            model = sbm.SBAuthorizationRule(body)
            if not scope:
                return c.namespaces.create_or_update_authorization_rule(self.rg, self.ns, name, model)
            collection, entity = scope.split("/", 1)
            ops = c.queues if collection == "queues" else c.topics
            return ops.create_or_update_authorization_rule(self.rg, self.ns, entity, name, model)
        raise ProviderError(f"unknown resource kind {kind!r}")

    def _delete_call(self, address: Address) -> None:
        c, kind, scope, name = self.client, address.kind, address.scope, address.name
        if kind == "namespace":
            c.namespaces.begin_delete(self.rg, self.ns).result()
        elif kind == "queue":
            c.queues.delete(self.rg, self.ns, name)
        elif kind == "topic":
            c.topics.delete(self.rg, self.ns, name)
        elif kind == "subscription":
            c.subscriptions.delete(self.rg, self.ns, scope, name)
        elif kind == "rule":
            topic, sub = scope.split("/", 1)
            c.rules.delete(self.rg, self.ns, topic, sub, name)
        elif kind == "authorization_rule":
            if not scope:
                c.namespaces.delete_authorization_rule(self.rg, self.ns, name)
            else:
                collection, entity = scope.split("/", 1)
                ops = c.queues if collection == "queues" else c.topics
                ops.delete_authorization_rule(self.rg, self.ns, entity, name)
        else:
            raise ProviderError(f"unknown resource kind {kind!r}")


def _label(address: Address) -> str:
    return f"{address.scope}/{address.name}" if address.scope else address.name


def _flat(props: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in props.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        elif not isinstance(value, dict):
            out[f"{prefix}{key}"] = value
    return out


def _dig(data: dict[str, Any], dotted: str) -> Any:
    current: Any = data
    for part in dotted.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def _namespace_blocked(path: str, before: Any, after: Any) -> str | None:
    if path == "location":
        return "a namespace cannot move to another location; create a new namespace and migrate"
    if path == "zoneRedundant":
        return "zone redundancy of an existing namespace cannot be changed"
    if path == "sku" and "Premium" in (before, after) and before != after:
        return "a namespace cannot move between Premium and Basic/Standard in place; use a migration"
    return None


PROVIDER = ServiceBusProvider
