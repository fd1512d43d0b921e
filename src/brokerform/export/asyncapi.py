"""Export a manifest as an AsyncAPI 3.0 document.

Servers come from targets (amqp, kafka/kafka-secure, amqps for Service Bus, sqs/sns),
channels from logical channels (plus native entities no channel covers), operations
from producers (send) and consumers (receive), messages from channel contracts with
their schema loaded from the contract file (or referenced with `reference_schemas`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from brokerform.errors import BrokerformError, Location, ManifestError, Problem, format_path
from brokerform.export.identifiers import Identifiers
from brokerform.export.text import printable_data

ASYNCAPI_VERSION = "3.0.0"
SCHEMA_FORMATS = {
    "json-schema": "application/schema+json;version=draft-07",
    "avro": "application/vnd.apache.avro+json;version=1.9.0",
    "protobuf": "application/vnd.google.protobuf;version=3",
}
SASL_TYPES = {"PLAIN": "plain", "SCRAM-SHA-256": "scramSha256", "SCRAM-SHA-512": "scramSha512"}
_KEY_RE = re.compile(r"[^A-Za-z0-9_.\-]")


def key(text: str) -> str:
    """A component/channel key AsyncAPI accepts (letters, digits, . - _)."""
    return _KEY_RE.sub("_", text)


class Keys:
    """The document's key namespaces. Different names that sanitise alike (`orders:created`,
    `orders/created`) get different keys (`orders_created`, `orders_created_2`): one key per
    owner, so nothing is silently overwritten and every `$ref` points at its own entry."""

    def __init__(self) -> None:
        self.servers = Identifiers(key)
        self.channels = Identifiers(key)
        self.operations = Identifiers(key)
        self.messages = Identifiers(key)
        self.schemes = Identifiers(key)

    def server(self, target_name: str, proto: str | None = None) -> str:
        return self.servers((target_name, proto), f"{target_name}-{proto}" if proto else target_name)


def ref(*parts: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)}


def _host_port(url: str, default_port: int) -> tuple[str, str]:
    parsed = urlparse(url if "://" in url else f"//{url}")
    host = parsed.hostname or "localhost"
    port = parsed.port or default_port
    return f"{host}:{port}", parsed.scheme


# --- servers -------------------------------------------------------------------------------


def rabbitmq_servers(name: str, target, keys: Keys) -> dict[str, dict]:
    if target.amqp_url:
        host, scheme = _host_port(target.amqp_url, 5672)
    else:
        host = f"{urlparse(target.url).hostname or 'localhost'}:5672"
        scheme = "amqp"
    tls = scheme == "amqps" or (target.tls is not None and target.tls.enabled)
    vhost = target.scope.vhost
    server = {"host": host, "protocol": "amqps" if tls else "amqp", "protocolVersion": "0.9.1",
              "pathname": "/" + vhost.lstrip("/") if vhost != "/" else "/",
              "title": f"{name} (RabbitMQ)"}
    return {keys.server(name): _describe(server, target)}


def kafka_servers(name: str, target, schemes: dict[str, dict], keys: Keys) -> dict[str, dict]:
    brokers = [b.strip() for b in str(target.bootstrap_servers).split(",") if b.strip()]
    secure = str(target.security_protocol).upper() in ("SSL", "SASL_SSL")
    server: dict[str, Any] = {"host": brokers[0] if brokers else "localhost:9092",
                              "protocol": "kafka-secure" if secure else "kafka", "title": f"{name} (Apache Kafka)"}
    if len(brokers) > 1:
        server["description"] = "Bootstrap servers: " + ", ".join(brokers)
    if target.sasl is not None and target.sasl.mechanism in SASL_TYPES:
        scheme_key = keys.schemes(name, f"{name}-sasl")
        schemes[scheme_key] = {"type": SASL_TYPES[target.sasl.mechanism],
                               "description": f"SASL {target.sasl.mechanism} as {target.sasl.username}"}
        server["security"] = [ref("components", "securitySchemes", scheme_key)]
    return {keys.server(name): _describe(server, target)}


def servicebus_servers(name: str, target, keys: Keys) -> dict[str, dict]:
    server = {"host": f"{target.namespace_name}.servicebus.windows.net", "protocol": "amqps",
              "protocolVersion": "1.0", "title": f"{name} (Azure Service Bus)"}
    return {keys.server(name): _describe(server, target)}


def aws_servers(name: str, target, keys: Keys) -> dict[str, dict]:
    out = {}
    for proto in ("sqs", "sns"):
        if target.endpoint_url:
            parsed = urlparse(target.endpoint_url)
            host = parsed.netloc.rpartition("@")[2] or target.endpoint_url  # never the URL's user:password
        else:
            host = f"{proto}.{target.region}.amazonaws.com"
        out[keys.server(name, proto)] = _describe(
            {"host": host, "protocol": proto, "title": f"{name} (AWS {proto.upper()}, {target.region})"}, target
        )
    return out


def _describe(server: dict, target) -> dict:
    if target.description and "description" not in server:
        server["description"] = target.description
    tags = [{"name": f"environment:{target.environment}"}] if target.environment else []
    if target.owner:
        tags.append({"name": f"owner:{target.owner}"})
    if tags:
        server["tags"] = tags
    return server


def server_of(keys: Keys, name: str, target, pattern: str | None = None, native_kind: str | None = None) -> str:
    if target.type == "aws":
        sns = native_kind == "topic" if native_kind else pattern == "pubsub"
        return keys.server(name, "sns" if sns else "sqs")
    return keys.server(name)


# --- messages ---------------------------------------------------------------------------------


def load_payload(loaded, cname: str, contract, out_dir: Path | None, reference: bool) -> dict | None:
    if contract is None or not contract.schema_file:
        return None
    fmt = contract.format or _guess_format(contract.schema_file)
    schema_format = SCHEMA_FORMATS[fmt]
    path = loaded.base_dir / contract.schema_file
    location = loaded.locate(("channels", cname, "contract", "schema"))
    if reference:
        target = os.path.relpath(path, out_dir) if out_dir is not None else str(path)
        return {"schemaFormat": schema_format, "schema": {"$ref": uri_reference(target)}}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError([Problem(location, f"cannot read schema {contract.schema_file}: {exc.strerror or exc}",
                                     format_path(("channels", cname, "contract", "schema")))]) from None
    if fmt == "protobuf":
        return {"schemaFormat": schema_format, "schema": text}
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        problem_loc = Location(str(path), exc.lineno, exc.colno)
        raise ManifestError([Problem(problem_loc, f"schema is not valid JSON: {exc.msg}")]) from None
    except RecursionError:
        raise ManifestError([Problem(Location(str(path)), "schema is nested too deeply to read")]) from None
    return {"schemaFormat": schema_format, "schema": schema}


def uri_reference(path: str) -> str:
    """A relative file path as a URI reference: `my schema#1%.json` -> `my%20schema%231%25.json`
    (a bare `#` would start a fragment, `%` an escape); undecodable file-name bytes are encoded
    as the bytes they are."""
    posix = Path(path).as_posix()
    return quote(os.fsencode(posix), safe="/")


def _guess_format(path: str) -> str:
    if path.endswith(".avsc"):
        return "avro"
    if path.endswith(".proto"):
        return "protobuf"
    return "json-schema"


def message_for(loaded, cname: str, channel, out_dir: Path | None, reference: bool) -> dict:
    contract = channel.contract
    message: dict[str, Any] = {"name": key(cname), "title": f"{cname} message"}
    if channel.description:
        message["summary"] = channel.description
    content_type = (contract.content_type if contract else None) or (
        "application/avro" if contract and contract.format == "avro" else
        "application/x-protobuf" if contract and contract.format == "protobuf" else "application/json")
    message["contentType"] = content_type
    payload = load_payload(loaded, cname, contract, out_dir, reference)
    if payload is not None:
        message["payload"] = payload
    if contract is not None:
        if "correlation-id" in contract.required_properties:
            message["correlationId"] = {"description": "Correlates replies, retries and logs",
                                        "location": "$message.header#/correlation_id"}
        if contract.required_properties:
            message["x-required-properties"] = list(contract.required_properties)
        if contract.version:
            message["x-schema-version"] = contract.version
        if contract.compatibility:
            message["x-schema-compatibility"] = contract.compatibility
        if contract.max_message_size is not None:
            message["x-max-message-size"] = contract.max_message_size
    if channel.ordering is not None and channel.ordering.key and channel.target:
        message["x-ordering-key"] = channel.ordering.key
    return message


# --- channel bindings ----------------------------------------------------------------------------


def channel_bindings(name: str, channel, target) -> dict | None:
    base = channel.name or name
    broker = target.type
    if broker == "rabbitmq":
        vhost = target.scope.vhost
        if channel.pattern == "pubsub":
            return {"amqp": {"is": "routingKey", "exchange": {"name": base, "type": "topic", "durable": channel.durable,
                                                              "autoDelete": False, "vhost": vhost}, "bindingVersion": "0.3.0"}}
        return {"amqp": {"is": "queue", "queue": {"name": base, "durable": channel.durable, "exclusive": False,
                                                  "autoDelete": False, "vhost": vhost}, "bindingVersion": "0.3.0"}}
    if broker == "kafka":
        binding: dict[str, Any] = {"topic": base, "bindingVersion": "0.5.0"}
        if channel.partitions:
            binding["partitions"] = channel.partitions
        if channel.replication_factor:
            binding["replicas"] = channel.replication_factor
        if channel.ttl is not None:
            binding["topicConfiguration"] = {"retention.ms": channel.ttl}
        return {"kafka": binding}
    if broker == "aws":
        if channel.pattern == "pubsub":
            fifo = channel.ordering is not None and channel.ordering.mode in ("fifo", "per-key")
            return {"sns": {"name": base, "ordering": {"type": "FIFO" if fifo else "standard"}, "bindingVersion": "0.1.0"}}
        queue: dict[str, Any] = {"name": base, "fifoQueue": channel.ordering is not None and channel.ordering.mode in ("fifo", "per-key")}
        if channel.ttl is not None:
            queue["messageRetentionPeriod"] = max(60, min(1_209_600, channel.ttl // 1000))
        if channel.ack_timeout is not None:
            queue["visibilityTimeout"] = min(43_200, channel.ack_timeout // 1000)
        sqs: dict[str, Any] = {"queue": queue, "bindingVersion": "0.2.0"}
        if channel.dead_letter is not None and channel.dead_letter.enabled:
            sqs["deadLetterQueue"] = {"name": channel.dead_letter.target or f"{base}-dlq", "fifoQueue": queue["fifoQueue"]}
        return {"sqs": sqs}
    if broker == "azure-servicebus":
        entity = {"entity": "topic" if channel.pattern == "pubsub" else "queue", "name": base}
        if channel.pattern == "pubsub":
            entity["subscriptions"] = list(channel.subscriptions)
        if channel.ordering is not None and channel.ordering.mode == "sessions":
            entity["requiresSession"] = True
        if channel.duplicate_detection is not None:
            entity["duplicateDetectionWindowMs"] = channel.duplicate_detection
        return {"x-azure-servicebus": entity}
    return None


# --- document ------------------------------------------------------------------------------------


def _operation(action: str, service: str, channel_key: str, message_key: str, summary: str,
               bindings: dict | None = None, reply: dict | None = None) -> dict:
    op: dict[str, Any] = {
        "action": action,
        "channel": ref("channels", channel_key),
        "summary": summary,
        "messages": [ref("channels", channel_key, "messages", message_key)] if message_key else [],
        "x-service": service,
    }
    if bindings:
        op["bindings"] = bindings
    if reply:
        op["reply"] = reply
    return op


def _receive_bindings(channel, broker: str, group: str | None) -> dict | None:
    if broker == "kafka" and group:
        return {"kafka": {"groupId": {"type": "string", "enum": [group]}, "bindingVersion": "0.5.0"}}
    if broker == "rabbitmq":
        return {"amqp": {"ack": True, "bindingVersion": "0.3.0"}}
    return None


def _send_bindings(channel, broker: str) -> dict | None:
    if broker == "rabbitmq":
        return {"amqp": {"deliveryMode": 2 if channel.durable else 1, "bindingVersion": "0.3.0"}}
    return None


def channel_operations(cname: str, channel) -> list[tuple[tuple, str, str, str, str | None]]:
    """(owner, key text, action, service, subscription) of every operation of a logical channel."""
    out: list[tuple[tuple, str, str, str, str | None]] = []
    for producer in channel.producers:
        out.append((("send", producer, cname), f"{producer}.send.{cname}", "send", producer, None))
    for consumer in channel.consumers:
        out.append((("receive", consumer, cname), f"{consumer}.receive.{cname}", "receive", consumer, None))
    for sub_name, sub in channel.subscriptions.items():
        for consumer in sub.consumers:
            out.append((("receive", consumer, cname, sub_name), f"{consumer}.receive.{cname}.{sub_name}",
                        "receive", consumer, sub_name))
    return out


def claim_exact_keys(keys: Keys, manifest) -> None:
    """Names that are valid keys as they are keep them; look-alikes get the numbered keys."""
    keys.servers.prefer_exact([((name, None), name) for name, t in manifest.targets.items() if t.type != "aws"])
    keys.channels.prefer_exact([(("channel", cname), cname) for cname in manifest.channels])
    keys.messages.prefer_exact([(cname, f"{cname}.message") for cname in manifest.channels])
    keys.operations.prefer_exact([(owner, text) for cname, channel in manifest.channels.items()
                                  for owner, text, *_ in channel_operations(cname, channel)])


def add_logical_channels(doc: dict, loaded, out_dir: Path | None, reference: bool,
                         keys: Keys) -> set[tuple[str, str]]:
    manifest = loaded.manifest
    covered: set[tuple[str, str]] = set()
    for cname, channel in manifest.channels.items():
        target = manifest.targets[channel.target]
        ck = keys.channels(("channel", cname), cname)
        mk = keys.messages(cname, f"{cname}.message")
        base = channel.name or cname
        covered.add((channel.target, base))
        doc["components"]["messages"][mk] = message_for(loaded, cname, channel, out_dir, reference)
        entry: dict[str, Any] = {
            "address": base,
            "title": cname,
            "servers": [ref("servers", server_of(keys, channel.target, target, channel.pattern))],
            "messages": {mk: ref("components", "messages", mk)},
        }
        if channel.description:
            entry["description"] = channel.description
        bindings = channel_bindings(cname, channel, target)
        if bindings:
            entry["bindings"] = bindings
        entry["x-pattern"] = channel.pattern
        if channel.owner:
            entry["x-owner"] = channel.owner
        doc["channels"][ck] = entry

        reply = None
        if channel.pattern == "request-reply" and channel.reply is not None:
            rk = keys.channels(("reply", cname), f"{cname}.reply")
            reply_name = channel.reply.queue or f"{base}.reply"
            covered.add((channel.target, reply_name))
            doc["channels"][rk] = {"address": reply_name, "title": f"{cname} replies",
                                   "servers": [ref("servers", server_of(keys, channel.target, target, "point-to-point"))]}
            reply = {"channel": ref("channels", rk)}
        group = channel.consumer_group
        for owner, text, action, service, sub_name in channel_operations(cname, channel):
            ok = keys.operations(owner, text)
            if action == "send":
                doc["operations"][ok] = _operation(
                    "send", service, ck, mk, f"{service} publishes to {cname}",
                    _send_bindings(channel, target.type), reply)
            elif sub_name is None:
                doc["operations"][ok] = _operation(
                    "receive", service, ck, mk, f"{service} consumes {cname}",
                    _receive_bindings(channel, target.type, group or service))
            else:
                op = _operation("receive", service, ck, mk, f"{service} consumes {cname} via subscription {sub_name}",
                                _receive_bindings(channel, target.type, sub_name))
                op["x-subscription"] = sub_name
                doc["operations"][ok] = op
    return covered


def native_entities(name: str, target) -> list[tuple[str, str, dict | None]]:
    """(kind, native name, bindings) of a target's declared entities."""
    out: list[tuple[str, str, dict | None]] = []
    if target.type == "kafka":
        for tname, topic in target.topics.items():
            binding: dict[str, Any] = {"topic": tname, "bindingVersion": "0.5.0"}
            if topic.partitions:
                binding["partitions"] = topic.partitions
            if topic.replication_factor:
                binding["replicas"] = topic.replication_factor
            if topic.retention is not None:
                binding["topicConfiguration"] = {"retention.ms": topic.retention}
            out.append(("topic", tname, {"kafka": binding}))
    elif target.type == "rabbitmq":
        vhost = target.scope.vhost
        for xname, exchange in target.exchanges.items():
            xtype = exchange.type if exchange.type in ("topic", "direct", "fanout", "headers") else "topic"
            out.append(("exchange", xname, {"amqp": {"is": "routingKey", "exchange": {
                "name": xname, "type": xtype, "durable": exchange.durable, "autoDelete": exchange.auto_delete,
                "vhost": vhost}, "bindingVersion": "0.3.0"}}))
        for qname, queue in target.queues.items():
            out.append(("queue", qname, {"amqp": {"is": "queue", "queue": {
                "name": qname, "durable": queue.durable, "exclusive": queue.exclusive,
                "autoDelete": queue.auto_delete, "vhost": vhost}, "bindingVersion": "0.3.0"}}))
    elif target.type == "azure-servicebus":
        for qname in target.queues:
            out.append(("queue", qname, {"x-azure-servicebus": {"entity": "queue", "name": qname}}))
        for tname, topic in target.topics.items():
            out.append(("topic", tname, {"x-azure-servicebus": {"entity": "topic", "name": tname,
                                                                "subscriptions": list(topic.subscriptions)}}))
    elif target.type == "aws":
        for tname, topic in target.topics.items():
            out.append(("topic", tname, {"sns": {"name": tname, "ordering": {"type": "FIFO" if topic.fifo else "standard"},
                                                 "bindingVersion": "0.1.0"}}))
        for qname, queue in target.queues.items():
            out.append(("queue", qname, {"sqs": {"queue": {"name": qname, "fifoQueue": queue.fifo}, "bindingVersion": "0.2.0"}}))
    return out


def add_native_channels(doc: dict, loaded, covered: set[tuple[str, str]], keys: Keys) -> None:
    manifest = loaded.manifest
    for tname, target in manifest.targets.items():
        native_keys: dict[str, str] = {}
        for kind, native, bindings in native_entities(tname, target):
            if (tname, native) in covered:
                continue
            ck = keys.channels(("native", tname, kind, native), f"{tname}.{native}")
            native_keys[native] = ck
            entry: dict[str, Any] = {"address": native, "title": f"{native} ({kind} on {tname})",
                                     "servers": [ref("servers", server_of(keys, tname, target, native_kind=kind))]}
            if bindings:
                entry["bindings"] = bindings
            doc["channels"][ck] = entry
        if target.type == "kafka":
            for sname, service in target.services.items():
                for topic in service.produces:
                    if topic in native_keys:
                        ok = keys.operations(("native", tname, sname, "send", topic), f"{sname}.send.{topic}")
                        doc["operations"][ok] = _operation(
                            "send", service.principal, native_keys[topic], "", f"{sname} produces to {topic}")
                for topic in service.consumes:
                    if topic in native_keys:
                        ok = keys.operations(("native", tname, sname, "receive", topic), f"{sname}.receive.{topic}")
                        doc["operations"][ok] = _operation(
                            "receive", service.principal, native_keys[topic], "", f"{sname} consumes {topic}",
                            _receive_bindings(None, "kafka", service.group))


def build_asyncapi(loaded, *, out_dir: Path | None = None, reference_schemas: bool = False) -> dict[str, Any]:
    """The AsyncAPI 3.0 document as a dict (serialise with json or yaml)."""
    manifest = loaded.manifest
    meta = manifest.metadata
    info: dict[str, Any] = {
        "title": meta.description or loaded.base_dir.name,
        "version": meta.labels.get("version", "1.0.0"),
    }
    description = [f"Generated by brokerform from `{loaded.root}`"
                   + (f" (environment {loaded.environment})" if loaded.environment else "") + "."]
    if meta.owner:
        description.append(f"Owner: {meta.owner}" + (f" ({meta.contact})" if meta.contact else "") + ".")
    info["description"] = " ".join(description)
    doc: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": info,
        "defaultContentType": "application/json",
        "servers": {},
        "channels": {},
        "operations": {},
        "components": {"messages": {}, "securitySchemes": {}},
    }
    keys = Keys()
    claim_exact_keys(keys, manifest)
    for name, target in manifest.targets.items():
        if target.type == "rabbitmq":
            doc["servers"].update(rabbitmq_servers(name, target, keys))
        elif target.type == "kafka":
            doc["servers"].update(kafka_servers(name, target, doc["components"]["securitySchemes"], keys))
        elif target.type == "azure-servicebus":
            doc["servers"].update(servicebus_servers(name, target, keys))
        elif target.type == "aws":
            doc["servers"].update(aws_servers(name, target, keys))
    covered = add_logical_channels(doc, loaded, out_dir, reference_schemas, keys)
    add_native_channels(doc, loaded, covered, keys)
    for section in ("messages", "securitySchemes"):
        if not doc["components"][section]:
            del doc["components"][section]
    if not doc["components"]:
        del doc["components"]
    return doc


def dump(doc: dict[str, Any], path: Path | None) -> str:
    """YAML for .yaml/.yml outputs, JSON otherwise."""
    doc = printable_data(doc)
    if path is not None and path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


__all__ = ["build_asyncapi", "dump", "BrokerformError"]
