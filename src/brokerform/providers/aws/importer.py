"""`brokerform import aws`: write a native manifest from live SQS queues, SNS topics and subscriptions.

The output compiles back to exactly what the provider reads (so `plan` shows no changes):
values equal to AWS defaults are left out, this account's id is written `${aws:account_id}`,
and the scope tags are written once in `scope.tags` (compile adds them to every resource).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from brokerform.commands.common import handle_errors, url_option, write_output
from brokerform.model.units import format_duration_ms, format_size_bytes
from brokerform.resources import Resource
from brokerform.secrets import url_password_as_reference

MODELINE = "# yaml-language-server: $schema=https://brokerform.dev/schemas/manifest.schema.json"
DEFAULT_DATA_KEY_REUSE_S = 300
DURATIONS = ("visibility_timeout", "retention", "delay", "receive_wait_time")


def _parse_tags(values: tuple[str, ...]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--tag")
        key, value = item.split("=", 1)
        tags[key] = value
    return tags


@click.command("aws")
@click.option("--region", required=True, help="AWS region, e.g. eu-west-1.")
@click.option("--endpoint-url", default=None, help="Endpoint (moto, LocalStack); default: AWS itself.",
              callback=url_option("https", "http"))
@click.option("--name-prefix", default=None, help="Import only queues and topics whose names start with this.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Import only resources with this tag (repeatable).")
@click.option("--profile", default=None, help="AWS profile to use (default: the standard credential chain).")
@click.option("--account-id", default=None, help="Account id (default: asked from STS).")
@click.option("--target-name", default="aws", show_default=True, help="Name of the target in the manifest.")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True, help="Manifest file to write.")
@handle_errors
def command(region, endpoint_url, name_prefix, tags, profile, account_id, target_name, out) -> None:
    """Import SQS queues and SNS topics (and their subscriptions) into a manifest."""
    import yaml

    from brokerform.model.aws import AwsTarget
    from brokerform.providers.aws.provider import AwsProvider

    scope: dict[str, Any] = {}
    if name_prefix:
        scope["name_prefix"] = name_prefix
    if tags:
        scope["tags"] = _parse_tags(tags)
    target = AwsTarget(type="aws", region=region, endpoint_url=endpoint_url, profile=profile, account_id=account_id,
                       scope=scope)
    with AwsProvider(target_name, target) as provider:
        resources = provider.read()
        block = target_block(target, resources, provider._unplaceholder)
    document = {"brokerform": 1, "targets": {target_name: block}}
    header = (f"{MODELINE}\n# Imported by `brokerform import aws` from region {region}"
              + (f" at {endpoint_url}" if endpoint_url else "") + ".\n")
    write_output(out, header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120))
    counts = {k: sum(1 for r in resources if r.address.kind == k) for k in ("queue", "topic", "subscription")}
    click.echo(f"wrote {out}: {counts['queue']} queue(s), {counts['topic']} topic(s), "
               f"{counts['subscription']} subscription(s)")


def target_block(target: Any, resources: list[Resource], portable) -> dict[str, Any]:
    """The `targets.<name>` mapping for these live resources."""
    block: dict[str, Any] = {"type": "aws", "region": target.region}
    if target.endpoint_url:
        block["endpoint_url"] = target.endpoint_url
    if target.profile:
        block["profile"] = target.profile
    scope = {k: v for k, v in target.scope.model_dump().items() if v}
    if scope:
        block["scope"] = scope
    policies = {r.properties["queue"]: r.properties["policy"] for r in resources if r.address.kind == "queue_policy"}
    queues = {r.properties["name"]: import_queue(r.properties, policies.get(r.properties["name"]), target, portable)
              for r in resources if r.address.kind == "queue"}
    topics = {r.properties["name"]: import_topic(r.properties, target, portable)
              for r in resources if r.address.kind == "topic"}
    subscriptions: dict[str, Any] = {}
    for resource in sorted((r for r in resources if r.address.kind == "subscription"), key=lambda r: r.address):
        key = _subscription_key(resource.properties, subscriptions)
        subscriptions[key] = import_subscription(resource.properties, portable, key)
    for name, values in (("queues", queues), ("topics", topics), ("subscriptions", subscriptions)):
        if values:
            block[name] = dict(sorted(values.items()))
    return block


def _without_scope_tags(tags: dict[str, str], target: Any) -> dict[str, str]:
    return {k: v for k, v in tags.items() if target.scope.tags.get(k) != v}


def import_queue(props: dict[str, Any], policy: dict[str, Any] | None, target: Any, portable) -> dict[str, Any]:
    from brokerform.providers.aws.provider import QUEUE_DEFAULTS

    queue: dict[str, Any] = {}
    if props.get("fifo"):
        queue["fifo"] = True
        for prop in ("content_based_deduplication", "deduplication_scope", "fifo_throughput_limit"):
            if prop in props and props[prop] != QUEUE_DEFAULTS[prop]:
                queue[prop] = props[prop]
    for prop in DURATIONS:
        if prop in props and props[prop] != QUEUE_DEFAULTS[prop]:
            queue[prop] = format_duration_ms(props[prop] * 1000) if props[prop] else "0s"
    if "max_message_size" in props and props["max_message_size"] != QUEUE_DEFAULTS["max_message_size"]:
        queue["max_message_size"] = format_size_bytes(props["max_message_size"])
    if "redrive" in props:
        queue["redrive"] = {"dead_letter_queue": portable(props["redrive"]["dead_letter_queue"]),
                            "max_receive_count": props["redrive"]["max_receive_count"]}
    if "redrive_allow" in props:
        queue["redrive_allow"] = portable(dict(props["redrive_allow"]))
    sse = props.get("sse")
    if sse and sse != {"managed": True}:  # SQS-managed encryption is the default of new queues
        if "kms_key" in sse:
            queue["sse"] = {"kms_key": sse["kms_key"]}
            if sse.get("data_key_reuse", DEFAULT_DATA_KEY_REUSE_S) != DEFAULT_DATA_KEY_REUSE_S:
                queue["sse"]["data_key_reuse"] = format_duration_ms(sse["data_key_reuse"] * 1000)
        else:
            queue["sse"] = {"enabled": bool(sse.get("managed"))}
    if policy is not None:
        queue["policy"] = portable(policy)
    tags = _without_scope_tags(props.get("tags") or {}, target)
    if tags:
        queue["tags"] = tags
    return queue


def _is_default_topic_policy(policy: dict[str, Any]) -> bool:
    return policy.get("Id") == "__default_policy_ID"


def import_topic(props: dict[str, Any], target: Any, portable) -> dict[str, Any]:
    topic: dict[str, Any] = {}
    if props.get("fifo"):
        topic["fifo"] = True
        if props.get("content_based_deduplication"):
            topic["content_based_deduplication"] = True
    if props.get("kms_key"):
        topic["kms_key"] = props["kms_key"]
    if props.get("policy") and not _is_default_topic_policy(props["policy"]):
        topic["policy"] = portable(props["policy"])
    tags = _without_scope_tags(props.get("tags") or {}, target)
    if tags:
        topic["tags"] = tags
    return topic


def import_subscription(props: dict[str, Any], portable, key: str = "") -> dict[str, Any]:
    sub: dict[str, Any] = {"topic": portable(props["topic"])}
    if props["protocol"] != "sqs":
        sub["protocol"] = props["protocol"]
    sub["endpoint"] = url_password_as_reference(portable(props["endpoint"]), f"AWS_SUBSCRIPTION_{key}")
    if "filter_policy" in props:
        sub["filter_policy"] = props["filter_policy"]
        if props.get("filter_policy_scope", "MessageAttributes") != "MessageAttributes":
            sub["filter_policy_scope"] = props["filter_policy_scope"]
    if props.get("raw_delivery"):
        sub["raw_delivery"] = True
    if "dead_letter_queue" in props:
        sub["dead_letter_queue"] = portable(props["dead_letter_queue"])
    return sub


def _subscription_key(props: dict[str, Any], taken: dict[str, Any]) -> str:
    def short(value: str) -> str:
        if "://" in value:  # a URL: host and path only, never its user info (a password) or query (a token)
            value = value.split("://", 1)[1].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
        else:
            value = value.rsplit(":", 1)[-1].removesuffix(".fifo")
        return re.sub(r"[^A-Za-z0-9_-]+", "-", value).strip("-")

    key = f"{short(props['topic'])}-to-{short(props['endpoint'])}"
    candidate, n = key, 2
    while candidate in taken:
        candidate, n = f"{key}-{n}", n + 1
    return candidate
