"""`brokerform import azure-servicebus`: write a manifest from a live namespace.

Only values that differ from the service defaults are written, so the manifest stays
short; plan afterwards shows no changes because brokerform compares declared values
only and carries live values over for everything else.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from brokerform.commands.common import handle_errors, url_option, write_output
from brokerform.providers.servicebus.compile import (
    CORRELATION_FIELDS,
    DEFAULT_RULE,
    DEFAULT_RULE_PROPERTIES,
    QUEUE_FIELDS,
    SUBSCRIPTION_FIELDS,
    TIMESPAN_MAX_MS,
    TOPIC_FIELDS,
)
from brokerform.resources import Resource

# ARM service defaults (per tier where they differ); a live value equal to its default is not written.
_COMMON_DEFAULTS = {
    "lockDuration": 60_000,
    "maxSizeInMegabytes": 1024,
    "requiresDuplicateDetection": False,
    "requiresSession": False,
    "defaultMessageTimeToLive": TIMESPAN_MAX_MS,
    "deadLetteringOnMessageExpiration": False,
    "duplicateDetectionHistoryTimeWindow": 600_000,
    "maxDeliveryCount": 10,
    "status": "Active",
    "enableBatchedOperations": True,
    "autoDeleteOnIdle": TIMESPAN_MAX_MS,
    "enablePartitioning": False,
    "supportOrdering": True,
    "deadLetteringOnFilterEvaluationExceptions": True,
}
UNEXPRESSED = {"enableExpress": False, "isClientAffine": False}


def service_default(kind: str, prop: str, tier: str) -> Any:
    if prop == "maxMessageSizeInKilobytes":
        return 1024 if tier == "Premium" else 256
    if prop == "defaultMessageTimeToLive" and tier == "Basic" and kind == "queue":
        return 14 * 86_400_000
    return _COMMON_DEFAULTS.get(prop)


def declared_fields(kind: str, props: dict[str, Any], fields: dict[str, str], tier: str) -> dict[str, Any]:
    """Manifest fields (snake_case, durations with units) for the non-default live values."""
    from brokerform.model.units import format_duration_ms
    from brokerform.providers.servicebus.compile import DURATION_PROPERTIES

    out: dict[str, Any] = {}
    for field, arm in fields.items():
        value = props.get(arm)
        if value is None or value == service_default(kind, arm, tier):
            continue
        if arm == "duplicateDetectionHistoryTimeWindow" and not props.get("requiresDuplicateDetection"):
            continue
        out[field] = format_duration_ms(value) if arm in DURATION_PROPERTIES else value
    return out


def rule_declaration(props: dict[str, Any]) -> dict[str, Any]:
    if props["filterType"] == "SqlFilter":
        sql: dict[str, Any] = {"expression": props["sqlExpression"]}
        if props.get("action"):
            sql["action"] = props["action"]
        return {"sql": sql}
    correlation = props.get("correlation") or {}
    out: dict[str, Any] = {field: correlation[arm] for field, arm in CORRELATION_FIELDS.items() if arm in correlation}
    if correlation.get("properties"):
        out["properties"] = dict(correlation["properties"])
    if props.get("action"):
        out["action"] = props["action"]
    return {"correlation": out}


def subscription_rules(rules: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`rules` and `keep_default_rule` so that compile reproduces exactly the live rules."""
    default = rules.get(DEFAULT_RULE)
    others = {name: rule_declaration(props) for name, props in sorted(rules.items()) if name != DEFAULT_RULE}
    out: dict[str, Any] = {}
    if default is not None and default != DEFAULT_RULE_PROPERTIES:
        others[DEFAULT_RULE] = rule_declaration(default)
    elif default is not None and others:
        out["keep_default_rule"] = True
    elif default is None and not others:
        out["keep_default_rule"] = False
    if others:
        out["rules"] = others
    return out


def build_manifest(resources: list[Resource], target: dict[str, Any], tier: str, warn=lambda msg: None) -> dict[str, Any]:
    """A manifest (as plain data) declaring every live resource."""
    by_kind: dict[str, list[Resource]] = {}
    for resource in sorted(resources, key=lambda r: r.address):
        by_kind.setdefault(resource.address.kind, []).append(resource)
    rules: dict[str, dict[str, dict]] = {}
    for rule in by_kind.get("rule", []):
        rules.setdefault(rule.address.scope, {})[rule.address.name] = rule.properties
    auth: dict[str, dict[str, Any]] = {}
    for rule in by_kind.get("authorization_rule", []):
        auth.setdefault(rule.address.scope, {})[rule.address.name] = {"rights": list(rule.properties["rights"])}
    block: dict[str, Any] = dict(target)
    if tier != "Standard":
        block["namespace_settings"] = {"sku": tier}
    if auth.get(""):
        block["authorization_rules"] = auth[""]
    queues: dict[str, Any] = {}
    for queue in by_kind.get("queue", []):
        _warn_unexpressed(queue, warn)
        entry = declared_fields("queue", queue.properties, QUEUE_FIELDS, tier)
        if auth.get(f"queues/{queue.address.name}"):
            entry["authorization_rules"] = auth[f"queues/{queue.address.name}"]
        queues[queue.address.name] = entry
    topics: dict[str, Any] = {}
    for topic in by_kind.get("topic", []):
        _warn_unexpressed(topic, warn)
        entry = declared_fields("topic", topic.properties, TOPIC_FIELDS, tier)
        if auth.get(f"topics/{topic.address.name}"):
            entry["authorization_rules"] = auth[f"topics/{topic.address.name}"]
        topics[topic.address.name] = entry
    for sub in by_kind.get("subscription", []):
        _warn_unexpressed(sub, warn)
        entry = declared_fields("subscription", sub.properties, SUBSCRIPTION_FIELDS, tier)
        entry.update(subscription_rules(rules.get(f"{sub.address.scope}/{sub.address.name}", {})))
        topics.setdefault(sub.address.scope, {}).setdefault("subscriptions", {})[sub.address.name] = entry
    if queues:
        block["queues"] = queues
    if topics:
        block["topics"] = topics
    return block


def _warn_unexpressed(resource: Resource, warn) -> None:
    for prop, default in UNEXPRESSED.items():
        value = resource.properties.get(prop)
        if value is not None and value != default:
            warn(f"{resource.address.kind} {resource.address.name}: {prop}={value} has no manifest field; "
                 "brokerform keeps the live value on updates")


@click.command("azure-servicebus")
@click.option("--subscription-id", required=True, help="Azure subscription id.")
@click.option("--resource-group", required=True, help="Resource group of the namespace.")
@click.option("--namespace", "namespace", required=True, help="Service Bus namespace name.")
@click.option("--endpoint", default=None, help="ARM endpoint (sovereign clouds, local contract server).",
              callback=url_option("https", "http"))
@click.option("--target-name", default=None, help="Name of the target in the manifest (default: the namespace).")
@click.option("--prefix", default=None, help="Only entities whose names start with this prefix.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Manifest file to write ('-' for stdout).")
@handle_errors
def command(subscription_id: str, resource_group: str, namespace: str, endpoint: str | None,
            target_name: str | None, prefix: str | None, output: Path) -> None:
    """Import a Service Bus namespace: queues, topics, subscriptions, rules, authorization rules."""
    import yaml

    from brokerform.model.servicebus import ServiceBusTarget
    from brokerform.providers import get_provider

    block: dict[str, Any] = {"type": "azure-servicebus", "subscription_id": subscription_id,
                             "resource_group": resource_group, "namespace": namespace}
    if endpoint:
        block["endpoint"] = endpoint
    if prefix:
        block["scope"] = {"name_prefix": prefix}
    target = ServiceBusTarget.model_validate(block)
    name = target_name or namespace
    with get_provider(name, target, Path.cwd()) as provider:
        resources = provider.read()
        tier = getattr(provider, "live_tier", None) or "Standard"
    warnings: list[str] = []
    data = {"brokerform": 1, "targets": {name: build_manifest(resources, block, tier, warnings.append)}}
    header = (f"# Imported from Service Bus namespace {namespace} (resource group {resource_group}) "
              "by `brokerform import azure-servicebus`.\n")
    text = header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    for message in warnings:
        click.echo(f"warning: {message}", err=True)
    if str(output) == "-":
        sys.stdout.write(text)
        return
    write_output(output, text)
    counts = {kind: sum(1 for r in resources if r.address.kind == kind)
              for kind in ("queue", "topic", "subscription", "rule", "authorization_rule")}
    click.echo(f"wrote {output}: " + ", ".join(f"{n} {k}(s)" for k, n in counts.items()))
