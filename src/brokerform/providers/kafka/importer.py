"""`brokerform import kafka`: write a manifest of the live topics, ACLs and users in scope.

The result plans with no changes: topics carry their partitions, replication factor and
topic-level (DYNAMIC_TOPIC_CONFIG) configs only; ACLs every field that differs from the
model's default; SCRAM users their mechanism and iterations with a password *reference*
(SCRAM credentials cannot be read back).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from brokerform.commands.common import bootstrap_option, handle_errors, write_output
from brokerform.model.units import format_duration_ms

_ACL_DEFAULTS = {"host": "*", "permission": "ALLOW", "resource_type": "TOPIC", "pattern_type": "LITERAL"}


def config_value(key: str, value: str) -> Any:
    """A readable manifest value: durations for *.ms keys (`7d`), integers for numbers."""
    if re.fullmatch(r"-?\d+", value):
        number = int(value)
        if key.endswith(".ms") and number > 0 and number % 1000 == 0:
            return format_duration_ms(number)
        return number
    return value


def password_variable(user: str) -> str:
    return "KAFKA_USER_" + re.sub(r"[^A-Za-z0-9]", "_", user).upper() + "_PASSWORD"


def build_target(options: dict[str, Any]) -> dict[str, Any]:
    """The target block of the imported manifest (connection settings, scope)."""
    target: dict[str, Any] = {
        "type": "kafka",
        "bootstrap_servers": options["bootstrap_servers"],
        "security_protocol": options["security_protocol"].upper(),
    }
    if options.get("sasl_mechanism"):
        target["sasl"] = {
            "mechanism": options["sasl_mechanism"],
            "username": options["sasl_username"] or "",
            "password": "${env:%s}" % options["sasl_password_env"],
        }
    if options.get("ca_file"):
        target["tls"] = {"ca_file": str(Path(options["ca_file"]).resolve())}
    if options.get("topic_prefixes"):
        target["scope"] = {"topic_prefixes": list(options["topic_prefixes"])}
    return target


def import_manifest(options: dict[str, Any], target_name: str = "kafka") -> dict[str, Any]:
    """Read the live broker and return the manifest as plain data."""
    from brokerform.model.kafka import KafkaTarget
    from brokerform.providers.kafka.provider import KafkaProvider

    target_data = build_target(options)
    target = KafkaTarget.model_validate(target_data, context={"base_dir": Path.cwd()})
    with KafkaProvider(target_name, target, Path.cwd()) as provider:
        provider.read_outside_users = True
        live = provider.read()
        outside = provider.outside_scope()
    topics: dict[str, Any] = {}
    acls: list[dict[str, Any]] = []
    users: dict[str, Any] = {}
    for resource in live:
        kind, props = resource.address.kind, resource.properties
        if kind == "topic":
            topic: dict[str, Any] = {"partitions": props["partitions"], "replication_factor": props["replication_factor"]}
            if props["configs"]:
                topic["configs"] = {k: config_value(k, v) for k, v in props["configs"].items()}
            topics[resource.address.name] = topic
        elif kind == "acl":
            acls.append({k: v for k, v in props.items() if _ACL_DEFAULTS.get(k) != v})
        elif kind == "user":
            users[resource.address.name] = _user(resource.address.name, props)
    principals = {a["principal"] for a in acls}
    for address, resource in outside.items():  # with a prefix: the SCRAM users the in-scope ACLs name
        if address.kind == "user" and f"User:{address.name}" in principals:
            users[address.name] = _user(address.name, resource.properties)
    if topics:
        target_data["topics"] = topics
    if acls:
        target_data["acls"] = sorted(acls, key=lambda a: (a["principal"], a.get("resource_name", ""), a["operation"]))
    if users:
        target_data["users"] = dict(sorted(users.items()))
    return {"brokerform": 1, "targets": {target_name: target_data}}


def _user(name: str, props: dict[str, Any]) -> dict[str, Any]:
    return {"mechanism": props["mechanism"], "iterations": props["iterations"],
            "password": "${env:%s}" % password_variable(name)}


@click.command("kafka")
@click.option("--bootstrap-servers", required=True, metavar="HOST:PORT[,...]", callback=bootstrap_option)
@click.option("--security-protocol", default="PLAINTEXT", show_default=True,
              type=click.Choice(["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"], case_sensitive=False))
@click.option("--sasl-mechanism", type=click.Choice(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]), default=None)
@click.option("--sasl-username", default=None)
@click.option("--sasl-password-env", default=None, metavar="VAR",
              help="Environment variable holding the SASL password (written as ${env:VAR}).")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), default=None, help="PEM CA bundle for SSL.")
@click.option("--topic-prefix", "topic_prefixes", multiple=True, metavar="PREFIX",
              help="Only topics (and their ACLs) starting with PREFIX (repeatable).")
@click.option("--target-name", default="kafka", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@handle_errors
def command(bootstrap_servers, security_protocol, sasl_mechanism, sasl_username, sasl_password_env, ca_file,
            topic_prefixes, target_name, out):
    """Import Kafka topics (non-default configs only), ACLs and SCRAM users into a manifest."""
    import yaml

    from brokerform.errors import BrokerformError

    if sasl_mechanism and not sasl_password_env:
        raise BrokerformError("--sasl-mechanism needs --sasl-password-env VAR (the password is never written)")
    if security_protocol.upper().startswith("SASL_") and not sasl_mechanism:
        raise BrokerformError(f"--security-protocol {security_protocol.upper()} needs --sasl-mechanism "
                              "(PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512), --sasl-username and --sasl-password-env")
    if sasl_mechanism and not security_protocol.upper().startswith("SASL_"):
        raise BrokerformError(f"--sasl-mechanism is never used with --security-protocol {security_protocol.upper()}: "
                              "use SASL_PLAINTEXT or SASL_SSL")
    options = {
        "bootstrap_servers": bootstrap_servers, "security_protocol": security_protocol,
        "sasl_mechanism": sasl_mechanism, "sasl_username": sasl_username, "sasl_password_env": sasl_password_env,
        "ca_file": ca_file, "topic_prefixes": topic_prefixes,
    }
    manifest = import_manifest(options, target_name)
    header = f"# Imported from Kafka at {bootstrap_servers} by `brokerform import kafka`.\n"
    write_output(out, header + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))
    target = manifest["targets"][target_name]
    click.echo(f"wrote {out}: {len(target.get('topics', {}))} topic(s), {len(target.get('acls', []))} ACL(s), "
               f"{len(target.get('users', {}))} user(s)")
