"""`brokerform import rabbitmq`: write a manifest of one vhost, from a live broker or a definitions file.

The result plans with no changes against the same vhost: queues get their type and
typed fields (`message_ttl: 1d`) where the model has them, every other x-argument
verbatim; users that hold permissions in the vhost are listed with their tags only
(RabbitMQ stores salted hashes: add `password: ${env:...}` to manage a password).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from brokerform.commands.common import handle_errors, url_option, write_output
from brokerform.errors import BrokerformError
from brokerform.model.units import format_duration_ms
from brokerform.providers.rabbitmq import compile as rc
from brokerform.resources import Address, Resource
from brokerform.secrets import REFERENCE_RE, url_password_as_reference

DURATION_ARGUMENTS = {"x-message-ttl": "message_ttl", "x-expires": "expires"}
TEMPLATE_MARKERS = ("{{", "{%", "{#")
SECTION_ORDER = ("vhost", "exchanges", "queues", "bindings", "policies", "operator_policies", "parameters", "users",
                 "permissions", "topic_permissions")


def queue_entry(props: dict[str, Any]) -> dict[str, Any]:
    """A readable queue declaration: typed fields where the model has them, raw x-arguments otherwise."""
    from pydantic import ValidationError

    from brokerform.model.rabbitmq import RabbitQueue

    base: dict[str, Any] = {"type": props["type"]}
    if not props["durable"]:
        base["durable"] = False
    if props["auto_delete"]:
        base["auto_delete"] = True
    typed, raw = dict(base), {}
    by_argument = {argument: field for field, argument in rc.QUEUE_ARGUMENTS.items()}
    for argument, value in props["arguments"].items():
        field = by_argument.get(argument)
        if field in DURATION_ARGUMENTS.values():
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                typed[field] = format_duration_ms(value) if value else "0s"
                continue
        elif field is not None:
            typed[field] = value
            continue
        raw[argument] = value
    if raw:
        typed["arguments"] = raw
    try:
        args, conflicts = rc.native_queue_arguments(RabbitQueue.model_validate(typed))
        if not conflicts and args == props["arguments"]:
            return typed
    except ValidationError:
        pass  # e.g. a TTL on a stream: keep the x-arguments exactly as the broker has them
    return {**base, "arguments": dict(props["arguments"])} if props["arguments"] else base


def exchange_entry(props: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": props["type"]}
    if not props["durable"]:
        entry["durable"] = False
    if props["auto_delete"]:
        entry["auto_delete"] = True
    if props["internal"]:
        entry["internal"] = True
    args = dict(props["arguments"])
    if isinstance(args.get("alternate-exchange"), str):
        entry["alternate_exchange"] = args.pop("alternate-exchange")
    if args:
        entry["arguments"] = args
    return entry


def binding_entry(props: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"source": props["source"], "destination": props["destination"]}
    if props["destination_type"] != "queue":
        entry["destination_type"] = props["destination_type"]
    if props["routing_key"]:
        entry["routing_key"] = props["routing_key"]
    if props["arguments"]:
        entry["arguments"] = props["arguments"]
    return entry


def policy_entry(props: dict[str, Any]) -> dict[str, Any]:
    return {"pattern": props["pattern"], "apply_to": props["apply-to"], "priority": props["priority"],
            "definition": props["definition"]}


def vhost_entry(props: dict[str, Any]) -> dict[str, Any] | None:
    entry: dict[str, Any] = {}
    if props.get("description"):
        entry["description"] = props["description"]
    if props.get("tags"):
        entry["tags"] = props["tags"]
    if props.get("default_queue_type"):
        entry["default_queue_type"] = props["default_queue_type"]
    limits = props.get("limits", {})
    for key in ("max-connections", "max-queues"):
        if key in limits and limits[key] >= 0:
            entry[key.replace("-", "_")] = limits[key]
    return entry or None


def target_entries(resources: list[Resource]) -> dict[str, Any]:
    """The native sections of a rabbitmq target from normalised resources."""
    out: dict[str, Any] = {}
    for resource in sorted(resources, key=lambda r: (r.address.kind, r.address.name)):
        kind, name, props = resource.address.kind, resource.address.name, resource.properties
        if kind == rc.KIND_VHOST:
            entry = vhost_entry(props)
            if entry:
                out["vhost"] = entry
        elif kind == rc.KIND_EXCHANGE:
            out.setdefault("exchanges", {})[name] = exchange_entry(props)
        elif kind == rc.KIND_QUEUE:
            out.setdefault("queues", {})[name] = queue_entry(props)
        elif kind == rc.KIND_BINDING:
            out.setdefault("bindings", []).append(binding_entry(props))
        elif kind == rc.KIND_POLICY:
            out.setdefault("policies", {})[name] = policy_entry(props)
        elif kind == rc.KIND_OPERATOR_POLICY:
            out.setdefault("operator_policies", {})[name] = policy_entry(props)
        elif kind == rc.KIND_PARAMETER:
            component, _, pname = name.partition("/")
            value = passwords_as_references(props["value"], f"RABBITMQ_{component}_{pname}")
            out.setdefault("parameters", {})[pname] = {"component": component, "value": value}
        elif kind == rc.KIND_USER:
            out.setdefault("users", {})[name] = {"tags": props["tags"]} if props["tags"] else {}
        elif kind == rc.KIND_PERMISSION:
            out.setdefault("permissions", {})[name] = dict(props)
        elif kind == rc.KIND_TOPIC_PERMISSION:
            out.setdefault("topic_permissions", {}).setdefault(props["user"], []).append(
                {"exchange": props["exchange"], "write": props["write"], "read": props["read"]})
    return {key: out[key] for key in SECTION_ORDER if key in out}


def passwords_as_references(value: Any, prefix: str) -> Any:
    """A shovel or federation URI's password becomes `${env:...}`: an imported manifest lands in
    git, and secrets go there by reference only. The variable is named after where it sits."""
    if isinstance(value, dict):
        return {key: passwords_as_references(item, f"{prefix}_{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [passwords_as_references(item, f"{prefix}_{i + 1}") for i, item in enumerate(value)]
    return url_password_as_reference(value, prefix) if isinstance(value, str) else value


def build_target(options: dict[str, Any]) -> dict[str, Any]:
    target: dict[str, Any] = {"type": "rabbitmq", "url": options["url"]}
    if options.get("username"):
        target["username"] = options["username"]
    if options.get("password_env"):
        target["password"] = "${env:%s}" % options["password_env"]
    if options.get("ca_file"):
        target["tls"] = {"ca_file": str(Path(options["ca_file"]).resolve())}
    target["scope"] = {"vhost": options["vhost"]}
    return target


def read_live(options: dict[str, Any], target_name: str) -> list[Resource]:
    from brokerform.model.rabbitmq import RabbitMQTarget, RabbitVhost
    from brokerform.providers.rabbitmq.provider import RabbitMQProvider

    target = RabbitMQTarget.model_validate(build_target(options), context={"base_dir": Path.cwd()})
    target.vhost = RabbitVhost()  # read its description, tags and limits too
    with RabbitMQProvider(target_name, target, Path.cwd()) as provider:
        if provider.client.get_or_none(f"/api/vhosts/{provider.v}") is None:
            raise BrokerformError(f"vhost {options['vhost']!r} does not exist at {options['url']}")
        provider.import_all_users = True
        return provider.read()


def read_file(path: Path, vhost: str, target_name: str) -> list[Resource]:
    from brokerform.providers.rabbitmq import definitions as rd

    data = rd.load_definitions(path)
    known = rd.vhosts_in(data)
    if known and vhost not in known:
        raise BrokerformError(f"{path}: no vhost {vhost!r} in this file (it has: {', '.join(known)})")
    selected = rd.select_vhost(data, vhost)
    resources = _drop_dangling_bindings(rd.resources(target_name, vhost, selected), path)
    limits = rd.vhost_limits(selected)
    vhost_info = next((v for v in data.get("vhosts", []) if v.get("name") == vhost), {})
    props = rc.vhost_properties(vhost_info.get("description") or None, list(vhost_info.get("tags") or []),
                                vhost_info.get("default_queue_type"), limits)
    resources.append(Resource(Address(target_name, rc.KIND_VHOST, "", vhost), props))
    for item in selected["permissions"]:
        resources.append(Resource(Address(target_name, rc.KIND_PERMISSION, vhost, item["user"]),
                                  rc.permission_properties(item.get("configure", "^$"), item.get("write", "^$"),
                                                           item.get("read", "^$"))))
    for item in selected["topic_permissions"]:
        resources.append(Resource(Address(target_name, rc.KIND_TOPIC_PERMISSION, vhost,
                                             rc.topic_permission_name(item["user"], item["exchange"])),
                                  rc.topic_permission_properties(item["user"], item["exchange"],
                                                                 item.get("write", "^$"), item.get("read", "^$"))))
    return resources


def _drop_dangling_bindings(resources: list[Resource], path: Path) -> list[Resource]:
    """A binding to an undeclared queue or exchange is dropped by RabbitMQ's own import: warn and drop it too."""
    declared = {(r.address.kind, r.address.name) for r in resources}
    kept = []
    for resource in resources:
        props = resource.properties
        if resource.address.kind == rc.KIND_BINDING:
            ends = [(rc.KIND_EXCHANGE, props["source"]),
                    (rc.KIND_QUEUE if props["destination_type"] == "queue" else rc.KIND_EXCHANGE, props["destination"])]
            missing = [f"{k} {n!r}" for k, n in ends if (k, n) not in declared
                       and not rc.BUILTIN(Address("", k, "", n))]
            if missing:
                click.echo(f"warning: {path}: skipped binding {resource.address.name!r}: "
                           f"{' and '.join(missing)} not declared in the file", err=True)
                continue
        kept.append(resource)
    return kept


def import_manifest(options: dict[str, Any], target_name: str = "rabbitmq") -> dict[str, Any]:
    """Read the vhost (live or from a file) and return the manifest as plain data."""
    if options.get("from_definitions"):
        resources = read_file(Path(options["from_definitions"]), options["vhost"], target_name)
    else:
        resources = read_live(options, target_name)
    target = build_target(options)
    scope = target.pop("scope")
    target["scope"] = scope
    target.update(target_entries(resources))
    return {"brokerform": 1, "targets": {target_name: target}}


def dump_manifest(manifest: dict[str, Any], source: str) -> str:
    import yaml

    text = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=120)
    header = f"# Imported by `brokerform import rabbitmq` from {source}.\n"
    if any(marker in text for marker in TEMPLATE_MARKERS):  # manifests are Jinja templates: keep text literal
        text = "{% raw %}\n" + text + "{% endraw %}\n"
    return header + text


@click.command("rabbitmq")
@click.option("--url", default="http://127.0.0.1:15672", show_default=True, help="Management API base URL.",
              callback=url_option("http", "https"))
@click.option("--vhost", default="/", show_default=True, help="The vhost to import.")
@click.option("--username", default="guest", show_default=True)
@click.option("--password-env", metavar="VAR", help="Environment variable holding the password.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), help="CA bundle for an https URL.")
@click.option("--from-definitions", type=click.Path(path_type=Path), metavar="FILE",
              help="Import offline from a definitions export instead of a live broker.")
@click.option("--target-name", default="rabbitmq", show_default=True, help="Name of the target in the manifest.")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True, help="Manifest to write.")
@handle_errors
def command(url, vhost, username, password_env, ca_file, from_definitions, target_name, out) -> None:
    """Write a manifest (target block included) for everything in one vhost."""
    import os

    if password_env and password_env not in os.environ and not from_definitions:
        raise BrokerformError(f"--password-env {password_env}: the variable is not set")
    options = {"url": url, "vhost": vhost, "username": username, "password_env": password_env, "ca_file": ca_file,
               "from_definitions": from_definitions}
    manifest = import_manifest(options, target_name)
    source = str(from_definitions) if from_definitions else f"{url} vhost {vhost!r}"
    write_output(out, dump_manifest(manifest, source))
    counts = {k: len(v) for k, v in manifest["targets"][target_name].items() if isinstance(v, (dict, list))
              and k not in ("scope", "tls", "vhost")}
    click.echo(f"wrote {out}: " + (", ".join(f"{n} {k}" for k, n in counts.items()) or "an empty vhost"))
    variables = sorted({m.group(2) for m in REFERENCE_RE.finditer(str(manifest["targets"][target_name].get(
        "parameters", {})))})
    if variables:
        click.echo("passwords in shovel/federation URIs were written as references; set "
                   + ", ".join(variables) + " before planning", err=True)
