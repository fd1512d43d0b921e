"""The RabbitMQ provider: live state from the management HTTP API, one object per change.

Read path: `GET /api/definitions/{vhost}` (exchanges, queues, bindings, policies, operator
policies, vhost limits, parameters) plus the vhost itself, its permissions and topic
permissions, and `GET /api/users` when users are managed: five calls, whatever the
number of queues.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import hashlib
import ssl
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, NamedTuple
from urllib.parse import urlsplit

from brokerform.errors import ProviderError
from brokerform.plan.planner import diff_properties, topological_order
from brokerform.providers.base import Capabilities, FieldPolicy, Provider
from brokerform.providers.rabbitmq import compile as rc
from brokerform.providers.rabbitmq import definitions as rd
from brokerform.providers.rabbitmq.client import NotFound, RabbitClient, seg, ssl_verify
from brokerform.resources import Address, Resource
from brokerform.secrets import REFERENCE_RE, SecretResolutionError, resolve_embedded, resolve_secret

if TYPE_CHECKING:
    from brokerform.plan.model import Change

LOCK_QUEUE = rd.LOCK_QUEUE
LOCK_LEASE_MS = 60_000
LOCK_OWNER_PREFIX = "brokerform-lock: "
BULK_KINDS = (rc.KIND_EXCHANGE, rc.KIND_QUEUE, rc.KIND_BINDING, rc.KIND_POLICY)
BULK_TIMEOUT_S = 900.0
PASSWORD_DIFFERS = "(a different password)"
NO_PASSWORD = "(no password)"
PASSWORD_UNCHECKED = "(not compared: its secret cannot be resolved)"
COUNT_UNKNOWN = ("message count unknown: no AMQP connection for an exact count and the management API's "
                 "count lags; set amqp_url for an exact count")
STREAM_COUNT_UNKNOWN = ("message count unknown: AMQP gives no count for a stream and the management API's "
                        "count lags")


class Export(NamedTuple):
    """fetch()'s result: the body of `GET /api/definitions/{vhost}`, None when the vhost does not exist."""

    body: bytes | None


_POLICIES = {
    rc.KIND_VHOST: FieldPolicy(managed=("limits.*",), recreate_with_dependencies=False),
    rc.KIND_EXCHANGE: FieldPolicy(updatable=False, recreate_with_dependencies=False),
    rc.KIND_QUEUE: FieldPolicy(immutable=("type", "durable", "auto_delete", "arguments.*"), holds_data=True,
                               recreate_with_dependencies=False),
    rc.KIND_BINDING: FieldPolicy(updatable=False, recreate_with_dependencies=True),
    rc.KIND_POLICY: FieldPolicy(recreate_with_dependencies=False),
    rc.KIND_OPERATOR_POLICY: FieldPolicy(recreate_with_dependencies=False),
    rc.KIND_USER: FieldPolicy(managed=("tags",), recreate_with_dependencies=False),
    rc.KIND_PERMISSION: FieldPolicy(recreate_with_dependencies=False),
    rc.KIND_TOPIC_PERMISSION: FieldPolicy(recreate_with_dependencies=False),
    rc.KIND_PARAMETER: FieldPolicy(recreate_with_dependencies=False),
}

_HASHES = {
    "rabbit_password_hashing_sha256": hashlib.sha256,
    "rabbit_password_hashing_sha512": hashlib.sha512,
    "rabbit_password_hashing_md5": hashlib.md5,
}


def password_matches(password: str, password_hash: str, algorithm: str | None) -> bool:
    """RabbitMQ's hash is base64(salt[4] + H(salt + password)); re-hash with the live salt and compare."""
    if not password_hash:
        return False
    try:
        raw = base64.b64decode(password_hash)
    except ValueError:
        return False
    hasher = _HASHES.get(algorithm or "rabbit_password_hashing_md5")
    if hasher is None or len(raw) < 5:
        return False
    salt, digest = raw[:4], raw[4:]
    return hasher(salt + password.encode("utf-8")).digest() == digest


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        return sorted(t.strip() for t in value.split(",") if t.strip())
    return sorted(value or [])


class RabbitMQProvider(Provider):
    type = "rabbitmq"

    def __init__(self, name: str, target: Any, base_dir: Path | None = None):
        super().__init__(name, target, base_dir)
        self.vhost: str = target.scope.vhost
        self.prefix: str | None = target.scope.name_prefix
        self.v = seg(self.vhost)
        try:
            password = resolve_secret(target.password, base_dir) if target.password else None
        except SecretResolutionError as exc:
            raise ProviderError(f"target {name}: password: {exc}") from None
        tls = target.tls if target.tls is not None and target.tls.enabled else None
        self._password, self._tls_context = password, ssl_verify(target.url, tls, base_dir)
        self._server_name = tls.server_name if tls else None
        self.client = RabbitClient(
            target.url, target.username, password, timeout_s=target.timeout / 1000,
            verify=self._tls_context, server_name=self._server_name,
        )
        self._read_key = (self.type, name, target.url, target.username, password,
                          tls.model_dump_json() if tls else None, target.timeout, self.vhost, self.prefix)
        self.managed_users: set[str] = set(target.users) if target.scope.manage_users else set()
        self.permission_users = self.managed_users | set(target.permissions) | set(target.topic_permissions)
        self.import_all_users = False  # importer: every user with permissions in the vhost (tags only)

    # -- description ---------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities(
            bulk_create=True, bulk_threshold=20, max_parallelism=16,
            broker_lock=f"classic queue {self.lock_queue_name()!r} in the vhost (x-expires lease, CAS on arguments)",
            notes=["creates go through one POST /api/definitions/{vhost} and are verified by reading back"],
        )

    def field_policy(self, kind: str) -> FieldPolicy:
        return _POLICIES.get(kind, FieldPolicy())

    def close(self) -> None:
        self.client.close()

    def address(self, kind: str, name: str, scoped: bool = True) -> Address:
        return Address(self.name, kind, self.vhost if scoped else "", name)

    # -- live state -------------------------------------------------------------------
    def read_key(self) -> tuple:
        return self._read_key

    def fetch(self) -> Export:
        """The vhost's definitions export (one GET), as received.

        Parsing is left to `read`: run early in a background thread while the planning thread
        parses the manifest, it would only contend with it for the interpreter lock."""
        try:
            return Export(self.client.request("GET", f"/api/definitions/{self.v}").content)
        except NotFound:
            return Export(None)

    def read(self, fetched: Export | None = None) -> list[Resource]:
        """Users and permissions are read only when declared (one GET each)."""
        body = (fetched or self.fetch()).body
        definitions = self.client.parse(body, "GET", f"/api/definitions/{self.v}") if body else None
        if definitions is None and self.target.vhost is not None and not self.target.vhost.create:
            raise ProviderError(f"vhost {self.vhost!r} does not exist and vhost.create is false: create it first, "
                                "or set vhost.create: true to let brokerform create it")
        resources: list[Resource] = []
        if definitions is not None:
            resources += self._read_vhost(definitions)
            resources += self._with_declared_references(self.resources_from_definitions(definitions))
            resources += self._read_permissions()
        resources += self._read_users()
        return resources

    def _read_vhost(self, definitions: dict) -> list[Resource]:
        address = self.address(rc.KIND_VHOST, self.vhost, scoped=False)
        if self.target.vhost is None:
            return [Resource(address, {})]  # existence only: no `vhost:` block, its settings are not managed
        if not self.target.vhost.create:
            return []
        info = self.client.get_or_none(f"/api/vhosts/{self.v}") or {}
        limits = rd.vhost_limits(definitions)
        default = info.get("default_queue_type")
        props = rc.vhost_properties(info.get("description") or "", _tags(info.get("tags")),
                                    None if default in (None, "undefined") else default, limits)
        return [Resource(address, props)]

    def _with_declared_references(self, resources: list[Resource]) -> list[Resource]:
        """Live parameter values shown as the manifest's references where they resolve to the same
        text: a shovel URI holding a password compares equal without the password entering the
        plan, and a changed one still shows as a change."""
        declared = {rc.parameter_name(p.component, name): p.value for name, p in self.target.parameters.items()
                    if any(isinstance(v, str) and REFERENCE_RE.search(v) for v in _strings(p.value))}
        if not declared:
            return resources
        for resource in resources:
            if resource.address.kind == rc.KIND_PARAMETER and resource.address.name in declared:
                value = resource.properties["value"]
                resource.properties["value"] = _mask_resolved(declared[resource.address.name], value, self.base_dir)
        return resources

    def resources_from_definitions(self, definitions: dict) -> list[Resource]:
        """Exchanges, queues, bindings, policies and parameters of this vhost, normalised like compile."""
        return rd.resources(self.name, self.vhost, definitions, self.prefix)

    def _wants_permissions_of(self, user: str) -> bool:
        return self.import_all_users or user in self.permission_users

    def _read_permissions(self) -> list[Resource]:
        if not self.permission_users and not self.import_all_users:
            return []
        out: list[Resource] = []
        for item in self.client.get_or_none(f"/api/vhosts/{self.v}/permissions") or []:
            if self._wants_permissions_of(item["user"]):
                if self.import_all_users:
                    self.managed_users.add(item["user"])
                props = rc.permission_properties(item["configure"], item["write"], item["read"])
                out.append(Resource(self.address(rc.KIND_PERMISSION, item["user"]), props))
        for item in self.client.get_or_none(f"/api/vhosts/{self.v}/topic-permissions") or []:
            user = item["user"]
            if self._wants_permissions_of(user):
                props = rc.topic_permission_properties(user, item["exchange"], item["write"], item["read"])
                out.append(Resource(self.address(rc.KIND_TOPIC_PERMISSION,
                                                 rc.topic_permission_name(user, item["exchange"])), props))
        return out

    def _read_users(self) -> list[Resource]:
        if not self.managed_users:
            return []
        out: list[Resource] = []
        for item in self.client.get("/api/users") or []:
            name = item["name"]
            if name not in self.managed_users:
                continue
            props: dict[str, Any] = {"tags": _tags(item.get("tags"))}
            declared = self.target.users.get(name)
            reference = declared.password if declared is not None else None
            if reference is not None:
                props["password"] = self._live_password(name, reference, item)
            out.append(Resource(self.address(rc.KIND_USER, name, scoped=False), props))
        return out

    def _live_password(self, user: str, reference: str, item: dict) -> str:
        """The declared reference when the live hash matches it, else a marker (never the hash or the value)."""
        if not item.get("password_hash"):
            return NO_PASSWORD
        try:
            password = resolve_secret(reference, self.base_dir) or ""
        except SecretResolutionError:
            return PASSWORD_UNCHECKED  # an update the plan blocks at the reference's line
        if password_matches(password, item["password_hash"], item.get("hashing_algorithm")):
            return reference
        return PASSWORD_DIFFERS

    def load_data_counts(self, resources: list[Resource]) -> None:
        """Message counts of queues a plan deletes or replaces (one call for many, else one per queue)."""
        queues = [r for r in resources if r.address.kind == rc.KIND_QUEUE]
        if not queues:
            return
        gone: set[str] = set()
        if len(queues) > 20:
            rows = self.client.get(f"/api/queues/{self.v}", {"columns": "name,messages"}) or []
            counts = {row["name"]: row.get("messages") for row in rows}
        else:
            counts = {}
            for queue in queues:
                row = self.client.get_or_none(f"/api/queues/{self.v}/{seg(queue.address.name)}",
                                              {"columns": "name,messages"})
                counts[queue.address.name] = (row or {}).get("messages", 0 if row is None else None)
                if row is None:
                    gone.add(queue.address.name)  # deleted since the read: nothing to lose
        exact = self._amqp_counts([q.address.name for q in queues])
        for queue in queues:
            http_count, amqp_count = counts.get(queue.address.name), exact.get(queue.address.name)
            stream = queue.properties.get("type") == "stream"
            if stream:
                amqp_count = None  # a passive declare reports 0 for every stream
            if amqp_count is None and http_count == 0 and queue.address.name not in gone:
                # The management count lags by up to the stats interval: a 0 may hide fresh messages.
                http_count = None
                queue.meta["count_unknown"] = STREAM_COUNT_UNKNOWN if stream else COUNT_UNKNOWN
            known = [c for c in (http_count, amqp_count) if c is not None]
            queue.meta["messages"] = max(known) if known else None

    def _amqp_counts(self, names: list[str]) -> dict[str, int]:
        """Exact ready-message counts by passive declare over AMQP (pika): at `amqp_url`, else at the
        management URL's host on the standard AMQP port. Empty when no connection can be made.

        The management API's counts lag by up to the statistics interval (5 s by default), so a
        queue that was just published to may still show 0 there.
        """
        try:
            import pika
        except ImportError:
            return {}
        counts: dict[str, int] = {}
        try:
            parameters = self._amqp_parameters(pika)
            with contextlib.closing(pika.BlockingConnection(parameters)) as connection:
                if not self.target.amqp_url and not self._same_cluster(connection):
                    return {}  # the derived address reached another broker (a port-forward, a local node)
                for name in names:
                    channel = connection.channel()
                    try:
                        counts[name] = channel.queue_declare(name, passive=True).method.message_count
                        channel.close()
                    except pika.exceptions.ChannelClosedByBroker:
                        pass  # 404 contradicts the HTTP read, 403 is no count: the HTTP count (or unknown) applies
        except Exception:  # noqa: BLE001 - best effort; the HTTP count (or "unknown") still applies
            return counts
        return counts

    def _same_cluster(self, connection: Any) -> bool:
        """Whether an AMQP connection opened at the management URL's host reached the broker the
        management API describes: both name the same cluster. Unknown counts as no."""
        properties = getattr(getattr(connection, "_impl", None), "server_properties", None) or {}
        amqp_name = properties.get("cluster_name")
        if isinstance(amqp_name, bytes):
            amqp_name = amqp_name.decode("utf-8", "replace")
        http_name = (self.client.get_or_none("/api/overview", {"columns": "cluster_name"}) or {}).get("cluster_name")
        return bool(amqp_name) and amqp_name == http_name

    def _amqp_parameters(self, pika: Any) -> Any:
        """`amqp_url` when declared; else amqp://HOST:5672 (amqps://HOST:5671 for an https management
        URL) with the target's credentials and TLS settings. Short timeouts: this is only a count."""
        if self.target.amqp_url:
            parameters = pika.URLParameters(self.target.amqp_url)
        else:
            url = urlsplit(self.target.url)
            secure = url.scheme.lower() == "https"
            ssl_options = None
            if secure and isinstance(self._tls_context, ssl.SSLContext):
                ssl_options = pika.SSLOptions(self._tls_context, self._server_name or url.hostname)
            parameters = pika.ConnectionParameters(
                host=url.hostname, port=5671 if secure else 5672, ssl_options=ssl_options,
                credentials=pika.PlainCredentials(self.target.username, self._password or ""))
        parameters.virtual_host = self.vhost
        parameters.connection_attempts, parameters.socket_timeout, parameters.stack_timeout = 1, 3, 5
        return parameters

    # -- plan checks --------------------------------------------------------------------
    def plan_checks(self, changes: list["Change"], desired: dict[Address, Resource],
                    live: dict[Address, Resource]) -> None:
        """Say why a queue's message count is unknown, and block removing brokerform's own access."""
        from brokerform.plan.model import Action, Reason

        for change in changes:
            unknown = change.live.meta.get("count_unknown") if change.live is not None else None
            if change.destructive and change.messages is None and unknown:
                change.note = f"{change.note}; {unknown}" if change.note else unknown
            if (change.action is Action.DELETE and change.address.kind == rc.KIND_PERMISSION
                    and change.address.name == self.target.username):
                change.action, change.reason = Action.BLOCKED, Reason.IMPOSSIBLE
                change.blocked_reason = (
                    f"deleting the permissions of {self.target.username!r}, the user brokerform connects as, "
                    f"would lock it out of vhost {self.vhost!r}; declare them under permissions: to keep them")

    # -- changes ------------------------------------------------------------------------
    def apply(self, change: "Change") -> None:
        from brokerform.plan.model import Action

        if change.action is Action.DELETE:
            self._delete(change.live or change.desired)
        elif change.desired is not None:
            self._put(change.desired, change.live)

    def _put(self, resource: Resource, live: Resource | None) -> None:
        kind, name, props = resource.address.kind, resource.address.name, resource.properties
        v, n = self.v, seg(name)
        if kind == rc.KIND_VHOST:
            self._put_vhost(resource, live)
        elif kind == rc.KIND_EXCHANGE:
            self.client.put(f"/api/exchanges/{v}/{n}", {k: props[k] for k in
                                                          ("type", "durable", "auto_delete", "internal", "arguments")})
        elif kind == rc.KIND_QUEUE:
            self.client.put(f"/api/queues/{v}/{n}", self.queue_body(props))
        elif kind == rc.KIND_BINDING:
            self.client.post(self._binding_path(props), {"routing_key": props["routing_key"],
                                                         "arguments": props["arguments"]})
        elif kind in (rc.KIND_POLICY, rc.KIND_OPERATOR_POLICY):
            path = "policies" if kind == rc.KIND_POLICY else "operator-policies"
            self.client.put(f"/api/{path}/{v}/{n}", props)
        elif kind == rc.KIND_USER:
            self._put_user(name, props)
        elif kind == rc.KIND_PERMISSION:
            self.client.put(f"/api/permissions/{v}/{n}", props)
        elif kind == rc.KIND_TOPIC_PERMISSION:
            self.client.put(f"/api/topic-permissions/{v}/{seg(props['user'])}",
                            {"exchange": props["exchange"], "write": props["write"], "read": props["read"]})
        elif kind == rc.KIND_PARAMETER:
            component, _, pname = name.partition("/")
            self.client.put(f"/api/parameters/{seg(component)}/{v}/{seg(pname)}",
                            {"component": component, "vhost": self.vhost, "name": pname,
                             "value": self._resolved(props["value"])})
        else:
            raise ProviderError(f"unknown RabbitMQ resource kind {kind!r}")

    @staticmethod
    def queue_body(props: dict[str, Any]) -> dict[str, Any]:
        return {"durable": props["durable"], "auto_delete": props["auto_delete"],
                "arguments": {**props["arguments"], "x-queue-type": props["type"]}}

    def _binding_path(self, props: dict[str, Any]) -> str:
        dest = "q" if props["destination_type"] == "queue" else "e"
        return f"/api/bindings/{self.v}/e/{seg(props['source'])}/{dest}/{seg(props['destination'])}"

    def _put_vhost(self, resource: Resource, live: Resource | None) -> None:
        current = live.properties if live is not None else {}
        props = {**current, **resource.properties}
        body: dict[str, Any] = {"description": props.get("description", ""), "tags": ",".join(props.get("tags", []))}
        if props.get("default_queue_type"):
            # 3.10/3.11 read `defaultqueuetype`, later versions `default_queue_type`.
            body["default_queue_type"] = body["defaultqueuetype"] = props["default_queue_type"]
        self.client.put(f"/api/vhosts/{self.v}", body)
        wanted = resource.properties.get("limits", {})
        for limit, value in wanted.items():
            self.client.put(f"/api/vhost-limits/{self.v}/{seg(limit)}", {"value": value})
        for limit in set(current.get("limits", {})) - set(wanted):
            self.client.delete(f"/api/vhost-limits/{self.v}/{seg(limit)}")

    def _put_user(self, name: str, props: dict[str, Any]) -> None:
        body: dict[str, Any] = {"tags": ",".join(props.get("tags", []))}
        reference = props.get("password")
        if reference:
            try:
                body["password"] = resolve_secret(reference, self.base_dir)
            except SecretResolutionError as exc:
                raise ProviderError(f"user {name}: password: {exc}") from None
        else:
            body.update(self._kept_password(name))
        self.client.put(f"/api/users/{seg(name)}", body)

    def _kept_password(self, name: str) -> dict[str, str]:
        """No declared password: an existing user keeps its hash (a PUT without one would erase it
        and lock the user out); a new user is created without a password."""
        current = self.client.get_or_none(f"/api/users/{seg(name)}") or {}
        if not current.get("password_hash"):
            return {"password_hash": ""}
        kept = {"password_hash": current["password_hash"]}
        if current.get("hashing_algorithm"):
            kept["hashing_algorithm"] = current["hashing_algorithm"]
        return kept

    def _delete(self, resource: Resource) -> None:
        kind, name, props = resource.address.kind, resource.address.name, resource.properties
        v, n = self.v, seg(name)
        if kind == rc.KIND_VHOST:
            self.client.delete(f"/api/vhosts/{v}")
        elif kind == rc.KIND_EXCHANGE:
            self.client.delete(f"/api/exchanges/{v}/{n}")
        elif kind == rc.KIND_QUEUE:
            self.client.delete(f"/api/queues/{v}/{n}")
        elif kind == rc.KIND_BINDING:
            self._delete_binding(props)
        elif kind in (rc.KIND_POLICY, rc.KIND_OPERATOR_POLICY):
            path = "policies" if kind == rc.KIND_POLICY else "operator-policies"
            self.client.delete(f"/api/{path}/{v}/{n}")
        elif kind == rc.KIND_USER:
            self.client.delete(f"/api/users/{n}")
        elif kind == rc.KIND_PERMISSION:
            self.client.delete(f"/api/permissions/{v}/{n}")
        elif kind == rc.KIND_TOPIC_PERMISSION:
            self._delete_topic_permission(props)
        elif kind == rc.KIND_PARAMETER:
            component, _, pname = name.partition("/")
            self.client.delete(f"/api/parameters/{seg(component)}/{v}/{seg(pname)}")
        else:
            raise ProviderError(f"unknown RabbitMQ resource kind {kind!r}")

    def _delete_binding(self, props: dict[str, Any]) -> None:
        """Bindings are deleted by their server-side properties key: look it up among the pair's bindings."""
        path = self._binding_path(props)
        for item in self.client.get_or_none(path) or []:
            if item.get("routing_key", "") == props["routing_key"] and (item.get("arguments") or {}) == props["arguments"]:
                self.client.delete(f"{path}/{seg(item['properties_key'])}")

    def _delete_topic_permission(self, props: dict[str, Any]) -> None:
        """The API deletes all of a user's topic permissions in a vhost at once: delete, then restore the others."""
        user = props["user"]
        current = self.client.get_or_none(f"/api/topic-permissions/{self.v}/{seg(user)}") or []
        self.client.delete(f"/api/topic-permissions/{self.v}/{seg(user)}")
        for item in current:
            if item["exchange"] != props["exchange"]:
                self.client.put(f"/api/topic-permissions/{self.v}/{seg(user)}",
                                {"exchange": item["exchange"], "write": item["write"], "read": item["read"]})

    # -- bulk create ------------------------------------------------------------------
    def apply_bulk(self, changes: list["Change"]) -> dict[Address, str | None]:
        """Vhost and users first, then one POST /api/definitions/{vhost}, then the rest; verified by reading back."""
        desired = {c.address: c.desired for c in changes if c.desired is not None}
        errors: dict[Address, str | None] = {a: None for a in desired}
        first = [r for r in desired.values() if r.address.kind in (rc.KIND_VHOST, rc.KIND_USER)]
        bulk = [r for r in desired.values() if r.address.kind in BULK_KINDS]
        rest = [r for r in desired.values() if r.address.kind not in (rc.KIND_VHOST, rc.KIND_USER, *BULK_KINDS)]
        self._apply_each(first, errors)
        if any(errors.values()):
            return {a: e or "not started: the vhost or a user could not be created" for a, e in errors.items()}
        if bulk:
            self._post_definitions(bulk, errors)
        self._apply_each(rest, errors)
        return errors

    def _resolved(self, value: Any) -> Any:
        try:
            return resolve_embedded(value, self.base_dir)
        except SecretResolutionError as exc:
            raise ProviderError(str(exc)) from None

    def _apply_each(self, resources: list[Resource], errors: dict[Address, str | None]) -> None:
        order = topological_order({r.address: r for r in resources})
        by_address = {r.address: r for r in resources}

        def run(address: Address) -> None:
            resource = by_address[address]
            failed = [d for d in resource.depends_on if errors.get(d)]
            if failed:
                errors[address] = f"skipped: {failed[0]} failed"
                return
            try:
                self._put(resource, None)
            except ProviderError as exc:
                errors[address] = str(exc)

        if len(order) <= 4:
            for address in order:
                run(address)
            return
        for kind in (rc.KIND_VHOST, rc.KIND_USER, rc.KIND_EXCHANGE, rc.KIND_QUEUE, rc.KIND_POLICY,
                     rc.KIND_OPERATOR_POLICY, rc.KIND_PARAMETER, rc.KIND_BINDING, rc.KIND_PERMISSION,
                     rc.KIND_TOPIC_PERMISSION):
            batch = [a for a in order if a.kind == kind]
            # exchange-to-exchange bindings and alternate exchanges: keep dependency order within a kind
            if kind in (rc.KIND_EXCHANGE, rc.KIND_TOPIC_PERMISSION):
                for address in batch:
                    run(address)
                continue
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(run, batch))

    def definitions_body(self, resources: Iterable[Resource]) -> dict[str, list[dict[str, Any]]]:
        body: dict[str, list[dict[str, Any]]] = {"exchanges": [], "queues": [], "bindings": [], "policies": []}
        for resource in resources:
            kind, name, props = resource.address.kind, resource.address.name, resource.properties
            if kind == rc.KIND_EXCHANGE:
                body["exchanges"].append({"name": name, **props})
            elif kind == rc.KIND_QUEUE:
                body["queues"].append({"name": name, **self.queue_body(props)})
            elif kind == rc.KIND_BINDING:
                body["bindings"].append(dict(props))
            elif kind == rc.KIND_POLICY:
                body["policies"].append({"name": name, **props})
        return body

    def _post_definitions(self, resources: list[Resource], errors: dict[Address, str | None]) -> None:
        try:
            self.client.request("POST", f"/api/definitions/{self.v}", json=self.definitions_body(resources),
                                timeout=max(BULK_TIMEOUT_S, self.target.timeout / 1000))
        except ProviderError as exc:
            if exc.transient:
                raise
            # The import refuses the whole file for one bad object: apply one by one to locate it.
            self._apply_each(resources, errors)
            return
        live = {r.address: r for r in self.resources_from_definitions(self.client.get(f"/api/definitions/{self.v}"))}
        for resource in resources:
            got = live.get(resource.address)
            if got is None:
                errors[resource.address] = "not found after the definitions import (the broker ignored it)"
                continue
            if got.properties == resource.properties:  # the common case; the planner's loose compare otherwise
                continue
            diff = diff_properties(resource, got, self.field_policy(resource.address.kind))
            if diff:
                shown = ", ".join(f"{d.path}: {d.before!r} (wanted {d.after!r})" for d in diff[:3])
                errors[resource.address] = ("a conflicting object already exists and the definitions import kept it: "
                                            + shown)

    # -- locking ------------------------------------------------------------------------
    def lock_queue_name(self) -> str:
        return LOCK_QUEUE + (f".{self.prefix}" if self.prefix else "")

    def lock_key(self) -> str:
        return f"{self.target.url}|{self.vhost}|{self.prefix or ''}"

    @contextlib.contextmanager
    def lock(self, owner: str, timeout_s: float) -> Iterator[None]:
        """A lock queue whose x-dead-letter-exchange names the owner: a second owner's PUT fails as
        "inequivalent arg" (compare-and-set); x-expires drops a crashed owner's lock after the lease."""
        if self.client.get_or_none(f"/api/vhosts/{self.v}") is None:
            # No vhost yet, so nowhere to put the lock: fall back to this machine's file lock.
            with super().lock(owner, timeout_s):
                yield
            return
        since = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        token = f"{LOCK_OWNER_PREFIX}{owner} since {since} [{uuid.uuid4().hex[:8]}]"
        path = f"/api/queues/{self.v}/{seg(self.lock_queue_name())}"
        body = {"durable": False, "auto_delete": False,
                "arguments": {"x-dead-letter-exchange": token, "x-expires": LOCK_LEASE_MS}}
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.client.put(path, body)
                break
            except ProviderError as exc:
                if "queue limit" in str(exc):
                    raise ProviderError(
                        f"cannot take the apply lock: vhost {self.vhost!r} is at its max-queues limit and "
                        f"brokerform's lock is a queue ({self.lock_queue_name()!r}); raise max-queues (vhost: "
                        f"max_queues) by one or delete a queue") from None
                if "inequivalent arg" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    holder = self._lock_holder(path)
                    raise ProviderError(
                        f"timed out after {timeout_s:.0f}s waiting for the apply lock on vhost {self.vhost!r} "
                        f"(held by {holder}); a crashed apply's lock expires {LOCK_LEASE_MS // 1000}s after "
                        f"its last heartbeat"
                    ) from None
                time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
        stop = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(path, body, stop), daemon=True)
        heartbeat.start()
        try:
            yield
        finally:
            stop.set()
            heartbeat.join(timeout=5)
            with contextlib.suppress(ProviderError):
                current = self.client.get_or_none(path, {"columns": "arguments"}) or {}
                if (current.get("arguments") or {}).get("x-dead-letter-exchange") == token:
                    self.client.delete(path)

    def _heartbeat(self, path: str, body: dict, stop: threading.Event) -> None:
        """Re-declaring the lock queue resets its x-expires timer while the apply runs."""
        while not stop.wait(LOCK_LEASE_MS / 4000):
            with contextlib.suppress(ProviderError):
                self.client.put(path, body)

    def _lock_holder(self, path: str) -> str:
        try:
            current = self.client.get_or_none(path, {"columns": "arguments"}) or {}
        except ProviderError:
            return "another brokerform apply"
        owner = str((current.get("arguments") or {}).get("x-dead-letter-exchange", ""))
        return owner[len(LOCK_OWNER_PREFIX):] if owner.startswith(LOCK_OWNER_PREFIX) else "another brokerform apply"


PROVIDER = RabbitMQProvider


def _strings(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    else:
        yield value


def _mask_resolved(declared: Any, live: Any, base_dir: Path | None) -> Any:
    """`live`, with each string that equals the resolved form of the declared one replaced by the
    declared text (its references); everything else as the broker has it."""
    if isinstance(declared, str) and isinstance(live, str) and "${" in declared:
        try:
            return declared if resolve_embedded(declared, base_dir) == live else live
        except SecretResolutionError:
            return live  # the plan already reports the reference at its line
    if isinstance(declared, dict) and isinstance(live, dict):
        return {key: _mask_resolved(declared.get(key), item, base_dir) for key, item in live.items()}
    if isinstance(declared, list) and isinstance(live, list) and len(declared) == len(live):
        return [_mask_resolved(d, item, base_dir) for d, item in zip(declared, live)]
    return live
