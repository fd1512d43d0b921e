"""Compile RabbitMQ channels and native declarations into desired resources (no SDK imports).

The property shapes built here (`queue_properties`, `exchange_properties`, ...) are the
ones `provider.read()` builds from the live definitions, so the planner compares like
with like. The logical-channel mapping is documented in docs/providers/rabbitmq.md.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any, Iterable

from brokerform.errors import ManifestError, Problem, format_path
from brokerform.model.units import format_duration_ms
from brokerform.resources import Address, Resource

KIND_VHOST = "vhost"
KIND_EXCHANGE = "exchange"
KIND_QUEUE = "queue"
KIND_BINDING = "binding"
KIND_POLICY = "policy"
KIND_OPERATOR_POLICY = "operator_policy"
KIND_USER = "user"
KIND_PERMISSION = "permission"
KIND_TOPIC_PERMISSION = "topic_permission"
KIND_PARAMETER = "parameter"

# Channel-generated policies win over catch-all policies (often priority 0): a queue gets one policy.
CHANNEL_POLICY_PRIORITY = 10

# Typed queue fields -> the x-argument each one sets.
QUEUE_ARGUMENTS: dict[str, str] = {
    "message_ttl": "x-message-ttl",
    "expires": "x-expires",
    "max_length": "x-max-length",
    "max_length_bytes": "x-max-length-bytes",
    "overflow": "x-overflow",
    "dead_letter_exchange": "x-dead-letter-exchange",
    "dead_letter_routing_key": "x-dead-letter-routing-key",
    "dead_letter_strategy": "x-dead-letter-strategy",
    "max_priority": "x-max-priority",
    "single_active_consumer": "x-single-active-consumer",
    "delivery_limit": "x-delivery-limit",
    "max_age": "x-max-age",
    "stream_max_segment_size_bytes": "x-stream-max-segment-size-bytes",
}
_new_address = tuple.__new__  # Address(...) runs namedtuple's Python __new__; 4,000 of them per 1,000 queues


def BUILTIN(address: Address) -> bool:  # noqa: N802 - the name is the core's contract
    """The default exchange and amq.* exchanges always exist in every vhost."""
    return address.kind == KIND_EXCHANGE and (address.name == "" or address.name.startswith("amq."))


# -- shapes shared with provider.read() ------------------------------------------------
def binding_name(source: str, destination_type: str, destination: str, routing_key: str,
                 arguments: dict[str, Any]) -> str:
    """A unique, readable binding identity; arguments take part through a short hash."""
    name = f"{source} -> {destination_type}:{destination} [{routing_key}]"
    if arguments:
        digest = hashlib.sha256(json.dumps(arguments, sort_keys=True, default=str).encode()).hexdigest()[:10]
        name += f" #{digest}"
    return name


def topic_permission_name(user: str, exchange: str) -> str:
    return f"{user} @ {exchange}"


def parameter_value(value: Any) -> Any:
    """A runtime parameter's value as compared: an object with sorted keys; a list (a federation
    upstream set) or any other JSON value as it is."""
    return dict(sorted(value.items())) if isinstance(value, dict) else value


def parameter_name(component: str, name: str) -> str:
    return f"{component}/{name}"


def exchange_properties(type_: str, durable: bool, auto_delete: bool, internal: bool,
                        arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_, "durable": durable, "auto_delete": auto_delete, "internal": internal,
            "arguments": _sorted(arguments)}


def queue_properties(type_: str, durable: bool, auto_delete: bool, arguments: dict[str, Any]) -> dict[str, Any]:
    args = _sorted(arguments)
    if "x-queue-type" in args:
        args = {k: v for k, v in args.items() if k != "x-queue-type"}
    return {"type": type_, "durable": durable, "auto_delete": auto_delete, "arguments": args}


def binding_properties(source: str, destination_type: str, destination: str, routing_key: str,
                       arguments: dict[str, Any]) -> dict[str, Any]:
    return {"source": source, "destination_type": destination_type, "destination": destination,
            "routing_key": routing_key, "arguments": _sorted(arguments)}


def _sorted(arguments: dict[str, Any]) -> dict[str, Any]:
    """A copy in key order, so that equal arguments compare and print alike."""
    return dict(sorted(arguments.items())) if arguments else {}


def policy_properties(pattern: str, apply_to: str, priority: int, definition: dict[str, Any]) -> dict[str, Any]:
    return {"pattern": pattern, "apply-to": apply_to, "priority": priority,
            "definition": dict(sorted(definition.items()))}


def permission_properties(configure: str, write: str, read: str) -> dict[str, Any]:
    return {"configure": configure, "write": write, "read": read}


def topic_permission_properties(user: str, exchange: str, write: str, read: str) -> dict[str, Any]:
    return {"user": user, "exchange": exchange, "write": write, "read": read}


# -- compilation -------------------------------------------------------------------------
class _Builder:
    """Collects resources and located problems for one target."""

    def __init__(self, name: str, target, loaded):
        self.name = name
        self.target = target
        self.loaded = loaded
        self.vhost = target.scope.vhost
        self.resources: list[Resource] = []
        self.problems: list[Problem] = []
        self.vhost_address: Address | None = None
        self.declared_exchanges: set[str] = set()
        self.declared_queues: set[str] = set()
        self.declared_users = set(target.users) if target.scope.manage_users else set()

    def address(self, kind: str, name: str, scoped: bool = True) -> Address:
        return _new_address(Address, (self.name, kind, self.vhost if scoped else "", name))

    def problem(self, path: tuple, message: str, key: bool = False) -> None:
        self.problems.append(Problem(self.loaded.locate(path, key=key), message, format_path(path)))

    def add(self, kind: str, name: str, properties: dict[str, Any], source: tuple, *, depends_on: Iterable[Address] = (),
            protect: bool = False, channel: str | None = None, scoped: bool = True) -> Address:
        address = _new_address(Address, (self.name, kind, self.vhost if scoped else "", name))
        deps = [self.vhost_address, *depends_on] if self.vhost_address and scoped else list(depends_on)
        if len(deps) == 2:
            if deps[0] == deps[1]:
                del deps[1]
        elif len(deps) > 2:
            deps = list(dict.fromkeys(deps))
        self.resources.append(Resource(address, properties, deps, source, protect, channel))
        return address

    def exchange_dep(self, name: str) -> list[Address]:
        """A hard dependency on an exchange (reported when undeclared, unless built in)."""
        return [self.address(KIND_EXCHANGE, name)]

    def soft_exchange_dep(self, name: str | None) -> list[Address]:
        """Order after an exchange only when it is declared (RabbitMQ accepts unknown DLX names)."""
        return [self.address(KIND_EXCHANGE, name)] if name and name in self.declared_exchanges else []

    def soft_queue_dep(self, name: str | None) -> list[Address]:
        return [self.address(KIND_QUEUE, name)] if name and name in self.declared_queues else []


def compile_target(name, target, channels, loaded) -> list[Resource]:
    """Expand channels into exchanges/queues/bindings/policies and pass native declarations through."""
    builder = _Builder(name, target, loaded)
    path = ("targets", name)
    builder.declared_exchanges = set(target.exchanges) | {_base(c, n) for n, c in channels.items()}
    builder.declared_exchanges |= {f"{_base(c, n)}.dlx" for n, c in channels.items() if _dead_letter_on(c)}
    builder.declared_exchanges |= {
        f"{_base(c, n)}.retry.{format_duration_ms(d)}" for n, c in channels.items() if c.retry for d in _tiers(c)
    }
    builder.declared_queues = set(target.queues)
    if target.vhost is None:  # created when missing, its settings left alone
        builder.vhost_address = builder.add(KIND_VHOST, builder.vhost, {}, path + ("scope", "vhost"), scoped=False)
    elif target.vhost.create:
        _compile_vhost(builder, target.vhost, path + ("vhost",))
    for cname, channel in channels.items():
        _compile_channel(builder, cname, channel)
    _compile_native(builder, target, path)
    _check_queue_limit(builder, target.vhost, path + ("vhost", "max_queues"))
    if builder.problems:
        raise ManifestError(builder.problems)
    return builder.resources


def _check_queue_limit(b: _Builder, vhost, source: tuple) -> None:
    """max_queues counts every queue in the vhost, brokerform's apply-lock queue included: a limit
    with no slot left for it makes every later apply fail before it starts."""
    if vhost is None or not vhost.create or vhost.max_queues is None:
        return
    declared = sum(1 for r in b.resources if r.address.kind == KIND_QUEUE)
    if vhost.max_queues < declared + 1:
        b.problem(source, f"max_queues {vhost.max_queues} leaves no room: {declared} queue(s) are declared and "
                          f"brokerform's apply lock is one more queue (brokerform.lock); set at least {declared + 1}")


def _base(channel, cname: str) -> str:
    return channel.name or cname


def _dead_letter_on(channel) -> bool:
    return channel.dead_letter is not None and channel.dead_letter.enabled


def _tiers(channel) -> list[int]:
    return list(dict.fromkeys(channel.retry.delays_ms())) if channel.retry else []


def vhost_properties(description: str | None, tags: list[str], default_queue_type: str | None,
                     limits: dict[str, int]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if description is not None:
        props["description"] = description
    if tags:
        props["tags"] = sorted(tags)
    if default_queue_type is not None:
        props["default_queue_type"] = default_queue_type
    props["limits"] = dict(sorted(limits.items()))
    return props


def _compile_vhost(b: _Builder, vhost, source: tuple) -> None:
    limits = {}
    if vhost.max_connections is not None:
        limits["max-connections"] = vhost.max_connections
    if vhost.max_queues is not None:
        limits["max-queues"] = vhost.max_queues
    props = vhost_properties(vhost.description, vhost.tags, vhost.default_queue_type, limits)
    b.vhost_address = b.add(KIND_VHOST, b.vhost, props, source, scoped=False)


# -- native declarations -------------------------------------------------------------
def native_queue_arguments(queue) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """x-arguments of a native queue, and (field, message) conflicts between typed and raw ones."""
    args = dict(queue.arguments)
    conflicts = []
    raw_type = args.pop("x-queue-type", None)
    if raw_type is not None and raw_type != queue.type:
        conflicts.append(("arguments", f"x-queue-type {raw_type!r} contradicts type {queue.type!r}; use type"))
    fields = queue.__dict__  # the validated values; getattr per field costs more at 10,000 queues
    for field in queue.model_fields_set.intersection(QUEUE_ARGUMENTS):  # every one defaults to None
        value, key = fields[field], QUEUE_ARGUMENTS[field]
        if value is None:
            continue
        if key in args and args[key] != value:
            conflicts.append((field, f"{field} and arguments.{key} are both given with different values"))
        args[key] = value
    return args, conflicts


def _compile_native(b: _Builder, target, path: tuple) -> None:
    for ename, exchange in target.exchanges.items():
        source = path + ("exchanges", ename)
        if ename == "" or ename.startswith("amq."):
            b.problem(source, "names starting with 'amq.' are reserved for RabbitMQ's built-in exchanges", key=True)
            continue
        _check_values(b, exchange.arguments, source + ("arguments",))
        args = dict(exchange.arguments)
        deps: list[Address] = []
        if exchange.alternate_exchange is not None:
            args["alternate-exchange"] = exchange.alternate_exchange
            deps += b.soft_exchange_dep(exchange.alternate_exchange)
        props = exchange_properties(exchange.type, exchange.durable, exchange.auto_delete, exchange.internal, args)
        b.add(KIND_EXCHANGE, ename, props, source, depends_on=deps, protect=exchange.protect)
    for qname, queue in target.queues.items():
        source = path + ("queues", qname)
        if qname.startswith("amq."):
            b.problem(source, "queue names starting with 'amq.' are reserved for the server", key=True)
            continue
        if queue.exclusive:
            b.problem(source + ("exclusive",), "exclusive queues belong to one client connection; "
                      "declare them from the application, not in a manifest")
            continue
        args, conflicts = native_queue_arguments(queue)
        for field, message in conflicts:
            b.problem(source + (field,), message)
        wrong = argument_problems(queue.arguments, "x-") if queue.arguments else []
        for key, message in wrong:
            b.problem(source + ("arguments", key), message)
        _check_values(b, _without(queue.arguments, wrong), source + ("arguments",))
        if queue.type == "quorum" and queue.max_priority is not None:
            b.problem(source + ("max_priority",), "quorum queues do not support priorities; use type: classic")
        if queue.type == "quorum" and queue.overflow == "reject-publish-dlx":
            b.problem(source + ("overflow",), "quorum queues support overflow drop-head or reject-publish only")
        deps = b.soft_exchange_dep(args.get("x-dead-letter-exchange"))
        props = queue_properties(queue.type, queue.durable, queue.auto_delete, args)
        b.add(KIND_QUEUE, qname, props, source, depends_on=deps, protect=queue.protect)
    for index, binding in enumerate(target.bindings):
        source = path + ("bindings", index)
        kind = KIND_QUEUE if binding.destination_type == "queue" else KIND_EXCHANGE
        if binding.source == "":
            b.problem(source + ("source",), "the default exchange binds every queue implicitly; "
                      "bindings to it cannot be declared")
            continue
        _check_values(b, binding.arguments, source + ("arguments",))
        name = binding_name(binding.source, binding.destination_type, binding.destination, binding.routing_key,
                            binding.arguments)
        props = binding_properties(binding.source, binding.destination_type, binding.destination,
                                   binding.routing_key, binding.arguments)
        deps = b.exchange_dep(binding.source) + [b.address(kind, binding.destination)]
        b.add(KIND_BINDING, name, props, source, depends_on=deps, protect=binding.protect)
    for kind, policies, key in ((KIND_POLICY, target.policies, "policies"),
                                (KIND_OPERATOR_POLICY, target.operator_policies, "operator_policies")):
        for pname, policy in policies.items():
            source = path + (key, pname)
            _check_pattern(b, policy.pattern, source + ("pattern",))
            wrong = argument_problems(policy.definition, "")
            for name, message in wrong:
                b.problem(source + ("definition", name), message)
            _check_values(b, _without(policy.definition, wrong), source + ("definition",))
            props = policy_properties(policy.pattern, policy.apply_to, policy.priority, policy.definition)
            deps = b.soft_exchange_dep(policy.definition.get("dead-letter-exchange")) if kind == KIND_POLICY else []
            b.add(kind, pname, props, source, depends_on=deps, protect=policy.protect)
    for pname, parameter in target.parameters.items():
        _check_values(b, parameter.value, path + ("parameters", pname, "value"), nulls=False)
        props = {"component": parameter.component, "value": parameter_value(parameter.value)}
        b.add(KIND_PARAMETER, parameter_name(parameter.component, pname), props, path + ("parameters", pname),
              protect=parameter.protect)
    if target.scope.manage_users:
        for uname, user in target.users.items():
            props: dict[str, Any] = {"tags": sorted(user.tags)}
            if user.password is not None:
                props["password"] = user.password
            b.add(KIND_USER, uname, props, path + ("users", uname), protect=user.protect, scoped=False)
    for uname, perm in target.permissions.items():
        deps = [b.address(KIND_USER, uname, scoped=False)] if uname in b.declared_users else []
        for field in ("configure", "write", "read"):
            _check_pattern(b, getattr(perm, field), path + ("permissions", uname, field))
        b.add(KIND_PERMISSION, uname, permission_properties(perm.configure, perm.write, perm.read),
              path + ("permissions", uname), depends_on=deps)
    for uname, entries in target.topic_permissions.items():
        deps = [b.address(KIND_USER, uname, scoped=False)] if uname in b.declared_users else []
        for index, entry in enumerate(entries):
            props = topic_permission_properties(uname, entry.exchange, entry.write, entry.read)
            b.add(KIND_TOPIC_PERMISSION, topic_permission_name(uname, entry.exchange), props,
                  path + ("topic_permissions", uname, index), depends_on=deps + b.soft_exchange_dep(entry.exchange))


# What RabbitMQ accepts for the queue arguments (x-...) and policy keys it knows; it refuses
# anything else at apply time, after the rest of the change set went through.
_NON_NEGATIVE_INT = ("an integer >= 0", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0)
_POSITIVE_INT = ("an integer >= 1", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1)
_TEXT = ("a string", lambda v: isinstance(v, str))
_BOOL = ("true or false", lambda v: isinstance(v, bool))


def _one_of(*values: str) -> tuple[str, Any]:
    return "one of " + ", ".join(values), lambda v: v in values


_ARGUMENT_TYPES: dict[str, tuple[str, Any]] = {
    "message-ttl": _NON_NEGATIVE_INT, "expires": _POSITIVE_INT, "max-length": _NON_NEGATIVE_INT,
    "max-length-bytes": _NON_NEGATIVE_INT, "delivery-limit": _NON_NEGATIVE_INT,
    "stream-max-segment-size-bytes": _POSITIVE_INT, "quorum-initial-group-size": _POSITIVE_INT,
    "initial-cluster-size": _POSITIVE_INT,
    "max-priority": ("an integer from 1 to 255", lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 255),
    "overflow": _one_of("drop-head", "reject-publish", "reject-publish-dlx"),
    "queue-mode": _one_of("default", "lazy"), "queue-type": _one_of("classic", "quorum", "stream"),
    "dead-letter-strategy": _one_of("at-most-once", "at-least-once"),
    "dead-letter-exchange": _TEXT, "dead-letter-routing-key": _TEXT, "max-age": _TEXT,
    "single-active-consumer": _BOOL,
}


def argument_problems(arguments: dict[str, Any], prefix: str) -> list[tuple[str, str]]:
    """(key, message) for known queue arguments (prefix "x-") or policy keys (prefix "") of the wrong type."""
    problems = []
    for key, value in arguments.items():
        known = _ARGUMENT_TYPES.get(key[len(prefix):]) if key.startswith(prefix) else None
        if known is not None and not known[1](value):
            unit, field = _UNIT_FIELDS.get(key, (None, None)) if prefix else (None, None)
            hint = f" ({unit}; or write {field}: {value} instead)" if unit and isinstance(value, str) else ""
            problems.append((key, f"RabbitMQ expects {known[0]} for {key}, got {value!r}{hint}"))
    return problems


_UNIT_FIELDS = {"x-message-ttl": ("milliseconds", "message_ttl"), "x-expires": ("milliseconds", "expires"),
                "x-max-length-bytes": ("bytes", "max_length_bytes"),
                "x-stream-max-segment-size-bytes": ("bytes", "stream_max_segment_size_bytes")}


def value_problems(value: Any, path: tuple = (), nulls: bool = True) -> Iterable[tuple[tuple, str]]:
    """(sub-path, message) for values JSON and RabbitMQ cannot take: NaN and infinities are not
    JSON numbers, and RabbitMQ refuses a null argument (null_not_allowed)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path, f"{value} is not a JSON number; RabbitMQ cannot store it"
    elif value is None and nulls:
        yield path, "null is not allowed here (RabbitMQ refuses it); remove the key or give a value"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from value_problems(item, path + (key,), nulls)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from value_problems(item, path + (index,), nulls)


def _without(arguments: dict[str, Any], reported: list[tuple[str, str]]) -> dict[str, Any]:
    """`arguments` less the keys already reported (one message per key)."""
    keys = {key for key, _ in reported}
    return {k: v for k, v in arguments.items() if k not in keys} if keys else arguments


def _check_values(b: _Builder, value: Any, source: tuple, nulls: bool = True) -> None:
    for subpath, message in value_problems(value, (), nulls):
        b.problem(source + subpath, message)


def _check_pattern(b: _Builder, pattern: str, source: tuple) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        b.problem(source, f"not a valid regular expression: {exc}")


# -- logical channels ---------------------------------------------------------------
def _channel_queue_type(b: _Builder, channel, source: tuple) -> tuple[str, bool]:
    """Quorum when durable and no priorities are needed; classic otherwise (or the vhost's default)."""
    if channel.priority is not None or not channel.durable:
        return "classic", channel.durable
    default = b.target.vhost.default_queue_type if b.target.vhost is not None else None
    if default == "classic":
        return "classic", True
    return "quorum", True


def _work_queue_arguments(b: _Builder, cname: str, channel, queue_type: str, max_length) -> dict[str, Any]:
    source = ("channels", cname)
    args: dict[str, Any] = {}
    if channel.ttl is not None:
        args["x-message-ttl"] = channel.ttl
    if max_length is not None:
        if max_length.messages is not None:
            args["x-max-length"] = max_length.messages
        if max_length.bytes is not None:
            args["x-max-length-bytes"] = max_length.bytes
        args["x-overflow"] = max_length.overflow
        if queue_type == "quorum" and max_length.overflow == "reject-publish-dlx":
            b.problem(source + ("max_length", "overflow"),
                      "quorum queues support overflow drop-head or reject-publish only; set durable: false "
                      "or choose another overflow")
    if channel.priority is not None:
        args["x-max-priority"] = channel.priority
    if channel.ordering is not None and channel.ordering.mode == "single-active-consumer":
        args["x-single-active-consumer"] = True
    return args


def _compile_channel(b: _Builder, cname: str, channel) -> None:
    source = ("channels", cname)
    base = _base(channel, cname)
    if channel.acls:
        b.problem(source + ("acls",), "rabbitmq channels do not compile acls; declare users, permissions and "
                  "topic_permissions on the target instead", key=True)
        return
    dead_letter = channel.dead_letter if _dead_letter_on(channel) else None
    if dead_letter is not None and channel.ttl is not None and not dead_letter.on_expiry:
        b.problem(source + ("dead_letter", "on_expiry"),
                  "RabbitMQ dead-letters expired messages whenever a dead-letter exchange is set; "
                  "on_expiry: false cannot be expressed")
    queue_type, durable = _channel_queue_type(b, channel, source)
    common = {"protect": channel.protect, "channel": cname}

    exchange_type = {"pubsub": "topic"}.get(channel.pattern, "direct")
    headers = [s for s in channel.subscriptions.values() if s.filter and s.filter.headers is not None]
    if headers:
        if len(headers) != len(channel.subscriptions) or any(
            s.filter and s.filter.routing_key is not None for s in channel.subscriptions.values()
        ):
            b.problem(source + ("subscriptions",), "mixing headers and routing_key filters in one channel is not "
                      "possible on RabbitMQ (one exchange type per channel)", key=True)
            return
        exchange_type = "headers"
    exchange = b.add(KIND_EXCHANGE, base, exchange_properties(exchange_type, durable, False, False, {}), source, **common)

    dlx_deps: list[Address] = []
    if dead_letter is not None:
        dlx_deps = _compile_dead_letter(b, cname, channel, base, queue_type, durable, common)

    work_queues: list[tuple[str, tuple]] = []  # (queue name, source)
    if channel.pattern == "pubsub":
        for sname, sub in channel.subscriptions.items():
            qname = f"{base}.{sname}"
            sub_source = source + ("subscriptions", sname)
            args = _work_queue_arguments(b, cname, channel, queue_type, sub.max_length or channel.max_length)
            b.add(KIND_QUEUE, qname, queue_properties(queue_type, durable, False, args), sub_source,
                  depends_on=dlx_deps, **common)
            routing_key, bind_args = "#", {}
            if sub.filter is not None and sub.filter.routing_key is not None:
                routing_key = sub.filter.routing_key
            if exchange_type == "headers":
                routing_key, bind_args = "", {"x-match": "all", **(sub.filter.headers or {})}
            _bind(b, base, qname, routing_key, bind_args, sub_source, exchange, common)
            work_queues.append((qname, sub_source))
    else:
        args = _work_queue_arguments(b, cname, channel, queue_type, channel.max_length)
        b.add(KIND_QUEUE, base, queue_properties(queue_type, durable, False, args), source, depends_on=dlx_deps,
              **common)
        _bind(b, base, base, base, {}, source, exchange, common)
        work_queues.append((base, source))
        if channel.pattern == "request-reply":
            reply_name = channel.reply.queue or f"{base}.reply"
            reply_args = {"x-message-ttl": channel.reply.ttl}
            b.add(KIND_QUEUE, reply_name, queue_properties(queue_type, durable, False, reply_args),
                  source + ("reply",), **common)

    if channel.retry is not None:
        _compile_retry(b, cname, channel, base, queue_type, durable, common)
    if dead_letter is not None:
        _compile_dead_letter_policy(b, cname, channel, base, queue_type, [q for q, _ in work_queues], dlx_deps, common)


def _bind(b: _Builder, exchange_name: str, queue: str, routing_key: str, args: dict, source: tuple,
          exchange: Address, common: dict) -> None:
    name = binding_name(exchange_name, "queue", queue, routing_key, args)
    props = binding_properties(exchange_name, "queue", queue, routing_key, args)
    b.add(KIND_BINDING, name, props, source, depends_on=[exchange, b.address(KIND_QUEUE, queue)], **common)


def _dlq_name(channel, base: str) -> str:
    return channel.dead_letter.target or f"{base}.dlq"


def _compile_dead_letter(b: _Builder, cname: str, channel, base: str, queue_type: str, durable: bool,
                         common: dict) -> list[Address]:
    """DLX exchange `N.dlx` (fanout) and the DLQ bound to it; the work queues depend on both."""
    source = ("channels", cname, "dead_letter")
    dlx_name, dlq_name = f"{base}.dlx", _dlq_name(channel, base)
    dlx = b.add(KIND_EXCHANGE, dlx_name, exchange_properties("fanout", durable, False, False, {}), source, **common)
    args: dict[str, Any] = {}
    if channel.dead_letter.ttl is not None:
        args["x-message-ttl"] = channel.dead_letter.ttl
    dlq_type = "classic" if queue_type == "classic" else "quorum"
    dlq = b.add(KIND_QUEUE, dlq_name, queue_properties(dlq_type, durable, False, args), source, **common)
    _bind(b, dlx_name, dlq_name, "", {}, source, dlx, common)
    return [dlx, dlq]


def _compile_dead_letter_policy(b: _Builder, cname: str, channel, base: str, queue_type: str, queues: list[str],
                                dlx_deps: list[Address], common: dict) -> None:
    """The policy holding dead-letter-exchange (and delivery-limit): changeable at run time, unlike x-arguments."""
    source = ("channels", cname, "dead_letter")
    definition: dict[str, Any] = {"dead-letter-exchange": f"{base}.dlx"}
    if channel.dead_letter.max_deliveries is not None:
        if queue_type != "quorum":
            b.problem(source + ("max_deliveries",), "max_deliveries needs quorum queues (delivery-limit); "
                      "this channel compiles to classic queues (durable: false, priority or the vhost default)")
        definition["delivery-limit"] = channel.dead_letter.max_deliveries
    pattern = "^(" + "|".join(re.escape(q) for q in sorted(queues)) + ")$"
    props = policy_properties(pattern, "queues", CHANNEL_POLICY_PRIORITY, definition)
    b.add(KIND_POLICY, f"{base}.dead-letter", props, source, depends_on=dlx_deps[:1], **common)


def _compile_retry(b: _Builder, cname: str, channel, base: str, queue_type: str, durable: bool,
                   common: dict) -> None:
    """Per delay tier: fanout exchange + queue `N.retry.<delay>` whose TTL dead-letters back via the default exchange.

    A consumer retries a message by publishing it to exchange `N.retry.<delay>` with its own queue
    name as routing key; when the TTL expires the message is dead-lettered to "" with that routing
    key, i.e. straight back onto the consumer's queue. After the last tier it rejects the message
    without requeue and the dead-letter policy moves it to the DLQ.
    """
    source = ("channels", cname, "retry")
    for delay in _tiers(channel):
        tier = f"{base}.retry.{format_duration_ms(delay)}"
        exchange = b.add(KIND_EXCHANGE, tier, exchange_properties("fanout", durable, False, False, {}), source, **common)
        args = {"x-message-ttl": delay, "x-dead-letter-exchange": ""}
        b.add(KIND_QUEUE, tier, queue_properties(queue_type, durable, False, args), source, **common)
        _bind(b, tier, tier, "", {}, source, exchange, common)
