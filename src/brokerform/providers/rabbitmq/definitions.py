"""RabbitMQ definitions files (`rabbitmqctl export_definitions`, `GET /api/definitions`).

Loading checks the structure before anything is sent anywhere, so a malformed file is
refused with `FILE:LINE:COL` for JSON syntax errors and `FILE: field.path: message` for
objects missing what RabbitMQ needs. `resources()` normalises one vhost's objects into
the same Resource shapes compile produces (the provider's read uses it too).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from brokerform.errors import Location, ManifestError, Problem, format_path
from brokerform.providers.rabbitmq import compile as rc
from brokerform.resources import Address, Resource

# Per section: the fields each object must have, and their JSON types.
REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "vhosts": {"name": str},
    "users": {"name": str},
    "permissions": {"user": str, "vhost": str},
    "topic_permissions": {"user": str, "vhost": str, "exchange": str},
    "parameters": {"component": str, "name": str},
    "global_parameters": {"name": str},
    "policies": {"name": str, "pattern": str, "definition": dict},
    "queues": {"name": str},
    "exchanges": {"name": str, "type": str},
    "bindings": {"source": str, "destination": str, "destination_type": str},
}
OPTIONAL_TYPES: dict[str, type | tuple[type, ...]] = {
    "arguments": dict, "durable": bool, "auto_delete": bool, "internal": bool, "routing_key": str,
    "priority": int, "apply-to": str, "vhost": str,
}
LOCK_QUEUE = "brokerform.lock"
INTERNAL_PARAMETER_COMPONENTS = {"operator_policy", "vhost-limits"}
JSON_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number"}


def load_definitions(path: Path) -> dict[str, Any]:
    """Parse and check a definitions file; raise ManifestError naming the file (and line:col for JSON)."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ManifestError([Problem(Location(shown), f"cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise ManifestError([Problem(Location(shown, 1, 1), "not valid UTF-8 text")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (this looks like a template: render it first)" if "{{" in text or "{%" in text else ""
        raise ManifestError([Problem(Location(shown, exc.lineno, exc.colno),
                                     f"not valid JSON: {exc.msg}{hint}")]) from None
    except RecursionError:
        raise ManifestError([Problem(Location(shown), "JSON nested too deeply to be a definitions export")]) from None
    problems = check_definitions(data, shown)
    if problems:
        raise ManifestError(problems)
    return data


def check_definitions(data: Any, shown: str) -> list[Problem]:
    where = Location(shown)
    if not isinstance(data, dict):
        return [Problem(where, "a definitions file is a JSON object with vhosts, queues, exchanges, ...")]
    problems: list[Problem] = []
    for section, required in REQUIRED.items():
        items = data.get(section, [])
        if not isinstance(items, list):
            problems.append(Problem(where, "expected a list", section))
            continue
        for index, item in enumerate(items):
            path = (section, index)
            if not isinstance(item, dict):
                problems.append(Problem(where, "expected an object", format_path(path)))
                continue
            for key, kind in required.items():
                if key not in item:
                    label = f" (in the object named {item['name']!r})" if isinstance(item.get("name"), str) else ""
                    problems.append(Problem(where, f"required field is missing{label}", format_path(path + (key,))))
                elif not isinstance(item[key], kind):
                    problems.append(Problem(where, f"expected {JSON_NAMES[kind]}", format_path(path + (key,))))
            for key, kind in OPTIONAL_TYPES.items():
                if key in item and key not in required and item[key] is not None and not isinstance(item[key], kind):
                    problems.append(Problem(where, f"expected {JSON_NAMES.get(kind, kind)}", format_path(path + (key,))))
    return problems


def vhosts_in(data: dict[str, Any]) -> list[str]:
    names = [v["name"] for v in data.get("vhosts", [])]
    for section in ("queues", "exchanges", "bindings", "policies", "parameters", "permissions"):
        for item in data.get(section, []):
            if "vhost" in item and item["vhost"] not in names:
                names.append(item["vhost"])
    return names


def select_vhost(data: dict[str, Any], vhost: str) -> dict[str, Any]:
    """One vhost's objects; objects without a `vhost` field (a per-vhost export) belong to every vhost."""
    out: dict[str, Any] = {}
    for section in ("queues", "exchanges", "bindings", "policies", "parameters", "permissions", "topic_permissions"):
        out[section] = [i for i in data.get(section, []) if i.get("vhost", vhost) == vhost]
    return out


def resources(target: str, vhost: str, definitions: dict[str, Any], prefix: str | None = None) -> list[Resource]:
    """Exchanges, queues, bindings, policies, operator policies and parameters, normalised like compile.

    Runs on every plan after the export arrives, so per-object work is kept to dictionary reads
    (a plan of 1,000 queues normalises 2,100 objects here)."""
    new = tuple.__new__  # Address(...) would run namedtuple's Python __new__ per object

    def address(kind: str, name: str) -> Address:
        return new(Address, (target, kind, vhost, name))

    def in_scope(name: str) -> bool:
        return not prefix or name.startswith(prefix)

    out: list[Resource] = []
    append = out.append
    for item in definitions.get("exchanges", ()):
        name = item["name"]
        if name == "" or name.startswith("amq.") or prefix and not name.startswith(prefix):
            continue
        get = item.get
        props = rc.exchange_properties(get("type", "direct"), get("durable", True), get("auto_delete", False),
                                       get("internal", False), get("arguments") or {})
        append(Resource(new(Address, (target, rc.KIND_EXCHANGE, vhost, name)), props))
    for item in definitions.get("queues", ()):
        name = item["name"]
        if name.startswith("amq.") or name.startswith(LOCK_QUEUE) or prefix and not name.startswith(prefix):
            continue
        get = item.get
        args = get("arguments") or {}
        props = rc.queue_properties(args.get("x-queue-type", "classic"), get("durable", True),
                                    get("auto_delete", False), args)
        append(Resource(new(Address, (target, rc.KIND_QUEUE, vhost, name)), props))
    for item in definitions.get("bindings", ()):
        get = item.get
        source, destination = get("source", ""), item["destination"]
        if source == "" or prefix and not (destination.startswith(prefix) or source.startswith(prefix)):
            continue
        dtype = get("destination_type", "queue")
        if dtype == "queue" and destination.startswith(LOCK_QUEUE):
            continue
        args, key = get("arguments") or {}, get("routing_key", "")
        # what it hangs on: a replace of either re-creates it, managed or not
        ends = [address(rc.KIND_EXCHANGE, source),
                address(rc.KIND_QUEUE if dtype == "queue" else rc.KIND_EXCHANGE, destination)]
        append(Resource(new(Address, (target, rc.KIND_BINDING, vhost,
                                      rc.binding_name(source, dtype, destination, key, args))),
                        rc.binding_properties(source, dtype, destination, key, args), depends_on=ends))
    for item in definitions.get("policies", ()):
        if in_scope(item["name"]):
            append(Resource(address(rc.KIND_POLICY, item["name"]), _policy(item)))
    for item in definitions.get("parameters", ()):
        component, name, value = item.get("component"), item.get("name"), item.get("value")
        if not in_scope(name):
            continue
        if component == "operator_policy":
            append(Resource(address(rc.KIND_OPERATOR_POLICY, name), _policy(value or {})))
        elif component not in INTERNAL_PARAMETER_COMPONENTS:
            props = {"component": component, "value": rc.parameter_value({} if value is None else value)}
            append(Resource(address(rc.KIND_PARAMETER, rc.parameter_name(component, name)), props))
    return out


def vhost_limits(definitions: dict[str, Any]) -> dict[str, int]:
    limits: dict[str, int] = {}
    for parameter in definitions.get("parameters", []):
        if parameter.get("component") == "vhost-limits":
            limits.update(parameter.get("value") or {})
    return limits


def _policy(item: dict) -> dict[str, Any]:
    return rc.policy_properties(item.get("pattern", ""), item.get("apply-to", "all"), item.get("priority", 0),
                                item.get("definition") or {})
