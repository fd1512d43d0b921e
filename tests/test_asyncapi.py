"""`brokerform export asyncapi`: an AsyncAPI 3.0 document that validates against the spec's schema.

tests/data/asyncapi-3.0.0.schema.json is `schemas/3.0.0.json` of the npm package
@asyncapi/specs 6.11.1 (Apache-2.0; `npm pack @asyncapi/specs`),
sha256 d4571a420e6ffb7fcc7066c95a6db1202f299a3c51daa103d0706bf30f95e626.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from brokerform.cli import main
from brokerform.errors import ManifestError
from brokerform.export.asyncapi import build_asyncapi
from brokerform.manifest.loader import available_environments, discover_files, load_manifest

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "data" / "asyncapi-3.0.0.schema.json"


@functools.lru_cache(maxsize=1)
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


def errors(document: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator().iter_errors(document)]


def internal_refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") else []
        return found + [r for v in node.values() for r in internal_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in internal_refs(v)]
    return []


def resolve(document: dict, pointer: str):
    node = document
    for part in pointer[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


EXAMPLES = [
    (folder.name, env)
    for folder in sorted((ROOT / "examples").iterdir())
    if folder.is_dir() and discover_files(folder)
    for env in [None, *available_environments(folder)]
]


def test_schema_file_is_the_recorded_asyncapi_release():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == "d4571a420e6ffb7fcc7066c95a6db1202f299a3c51daa103d0706bf30f95e626"


def test_the_validator_rejects_an_invalid_document():
    document = build_asyncapi(load_manifest(ROOT / "examples" / "rabbitmq-orders"))
    next(iter(document["operations"].values()))["action"] = "publish"  # AsyncAPI 2 wording
    assert errors(document)


@pytest.mark.parametrize(("example", "environment"), EXAMPLES, ids=[f"{n}-{e or 'default'}" for n, e in EXAMPLES])
def test_every_example_exports_a_valid_asyncapi_document(example, environment):
    document = build_asyncapi(load_manifest(ROOT / "examples" / example, environment))
    assert errors(document) == []
    assert document["asyncapi"] == "3.0.0"
    for pointer in internal_refs(document):
        resolve(document, pointer)  # raises KeyError when a $ref dangles


def test_operations_send_per_producer_and_receive_per_subscription_consumer():
    document = build_asyncapi(load_manifest(ROOT / "examples" / "rabbitmq-orders"))
    ops = {k: (v["action"], v["channel"]["$ref"]) for k, v in document["operations"].items()}
    assert ops["checkout-svc.send.orders.events"] == ("send", "#/channels/orders.events")
    assert ops["billing-svc.receive.orders.events.billing"] == ("receive", "#/channels/orders.events")
    assert ops["pricing-svc.receive.orders.quote"] == ("receive", "#/channels/orders.quote")
    quote = document["operations"]["checkout-svc.send.orders.quote"]
    assert quote["reply"] == {"channel": {"$ref": "#/channels/orders.quote.reply"}}
    assert document["channels"]["orders.quote.reply"]["address"] == "orders.quote.reply"
    exchange = document["channels"]["orders.events"]["bindings"]["amqp"]
    assert exchange == {"is": "routingKey", "exchange": {"name": "orders.events", "type": "topic", "durable": True,
                                                         "autoDelete": False, "vhost": "orders"}, "bindingVersion": "0.3.0"}
    assert document["servers"]["orders-rmq"] == {
        "host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1", "pathname": "/orders",
        "title": "orders-rmq (RabbitMQ)", "tags": [{"name": "owner:team-platform"}],
    }


def test_messages_embed_json_schema_and_avro_with_their_schema_format():
    loaded = load_manifest(ROOT / "examples" / "multi-broker-shop", "prod")
    messages = build_asyncapi(loaded)["components"]["messages"]
    order = messages["shop.orders.message"]
    assert order["payload"]["schemaFormat"] == "application/schema+json;version=draft-07"
    assert order["payload"]["schema"] == json.loads((ROOT / "examples/multi-broker-shop/schemas/order-event.schema.json").read_text())
    assert order["correlationId"]["location"] == "$message.header#/correlation_id"
    assert order["x-required-properties"] == ["message-id", "timestamp", "content-type", "correlation-id"]
    clicks = messages["shop.prod.clicks.message"]
    assert clicks["payload"]["schemaFormat"] == "application/vnd.apache.avro+json;version=1.9.0"
    assert clicks["contentType"] == "application/avro"


FOUR_BROKERS = """
targets:
  k:
    type: kafka
    environment: prod
    bootstrap_servers: kafka-1.internal:9093,kafka-2.internal:9093
    security_protocol: SASL_SSL
    sasl: {mechanism: SCRAM-SHA-256, username: deployer, password: "${env:KAFKA_PASSWORD:-x}"}
  a: {type: aws, region: eu-west-1}
  sb: {type: azure-servicebus, subscription_id: s, resource_group: g, namespace: sb-shop, owner: team-payments}
channels:
  clicks:
    target: k
    pattern: competing-consumers
    consumer_group: aggregator
    producers: [web]
    consumers: [aggregator]
    partitions: 12
    replication_factor: 3
    ttl: 7d
  notifications:
    target: a
    pattern: pubsub
    producers: [orders]
    subscriptions: {email: {consumers: [mailer]}}
  jobs:
    target: a
    pattern: point-to-point
    ttl: 4d
    ack_timeout: 2m
    dead_letter: {max_deliveries: 3}
  payments:
    target: sb
    pattern: point-to-point
    ordering: {mode: sessions, key: payment-id}
    duplicate_detection: 10m
"""


def test_servers_and_bindings_for_kafka_sqs_sns_and_service_bus(tmp_path):
    (tmp_path / "manifest.yaml").write_text(FOUR_BROKERS)
    document = build_asyncapi(load_manifest(tmp_path / "manifest.yaml"))
    assert errors(document) == []
    servers = document["servers"]
    assert servers["k"] == {
        "host": "kafka-1.internal:9093", "protocol": "kafka-secure", "title": "k (Apache Kafka)",
        "description": "Bootstrap servers: kafka-1.internal:9093, kafka-2.internal:9093",
        "security": [{"$ref": "#/components/securitySchemes/k-sasl"}], "tags": [{"name": "environment:prod"}],
    }
    assert document["components"]["securitySchemes"]["k-sasl"] == {"type": "scramSha256", "description": "SASL SCRAM-SHA-256 as deployer"}
    assert servers["a-sqs"] == {"host": "sqs.eu-west-1.amazonaws.com", "protocol": "sqs", "title": "a (AWS SQS, eu-west-1)"}
    assert servers["a-sns"]["host"] == "sns.eu-west-1.amazonaws.com"
    assert servers["sb"] == {"host": "sb-shop.servicebus.windows.net", "protocol": "amqps", "protocolVersion": "1.0",
                             "title": "sb (Azure Service Bus)", "tags": [{"name": "owner:team-payments"}]}
    channels = document["channels"]
    assert channels["clicks"]["bindings"]["kafka"] == {
        "topic": "clicks", "bindingVersion": "0.5.0", "partitions": 12, "replicas": 3,
        "topicConfiguration": {"retention.ms": 604_800_000}}
    assert channels["notifications"]["bindings"] == {"sns": {"name": "notifications", "ordering": {"type": "standard"}, "bindingVersion": "0.1.0"}}
    assert channels["notifications"]["servers"] == [{"$ref": "#/servers/a-sns"}]
    assert channels["jobs"]["bindings"]["sqs"] == {
        "queue": {"name": "jobs", "fifoQueue": False, "messageRetentionPeriod": 345_600, "visibilityTimeout": 120},
        "bindingVersion": "0.2.0", "deadLetterQueue": {"name": "jobs-dlq", "fifoQueue": False}}
    assert channels["payments"]["bindings"] == {"x-azure-servicebus": {
        "entity": "queue", "name": "payments", "requiresSession": True, "duplicateDetectionWindowMs": 600_000}}
    receive = document["operations"]["aggregator.receive.clicks"]
    assert receive["bindings"]["kafka"]["groupId"] == {"type": "string", "enum": ["aggregator"]}
    assert document["operations"]["mailer.receive.notifications.email"]["x-subscription"] == "email"


def test_reference_mode_points_at_schema_files_relative_to_the_output(tmp_path):
    loaded = load_manifest(ROOT / "examples" / "rabbitmq-orders")
    document = build_asyncapi(loaded, out_dir=ROOT / "build", reference_schemas=True)
    payload = document["components"]["messages"]["orders.events.message"]["payload"]
    assert payload == {"schemaFormat": "application/schema+json;version=draft-07",
                       "schema": {"$ref": "../examples/rabbitmq-orders/schemas/order-event.schema.json"}}
    assert errors(document) == []


def test_a_schema_file_that_is_not_json_is_a_located_error(tmp_path):
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "job.json").write_text('{\n  "type": "object",\n  oops\n}\n')
    path = tmp_path / "manifest.yaml"
    path.write_text("""targets:
  r: {type: rabbitmq, url: "http://127.0.0.1:15672"}
channels:
  jobs:
    target: r
    pattern: point-to-point
    contract: {schema: schemas/job.json}
""")
    loaded = load_manifest(path)
    with pytest.raises(ManifestError) as caught:
        build_asyncapi(loaded)
    assert str(caught.value) == f"{tmp_path / 'schemas' / 'job.json'}:3:3: schema is not valid JSON: Expecting property name enclosed in double quotes"


def test_cli_writes_yaml_or_json_by_extension(tmp_path):
    runner = CliRunner()
    example = str(ROOT / "examples" / "rabbitmq-orders")
    as_yaml = runner.invoke(main, ["export", "asyncapi", example, "-o", str(tmp_path / "api.yaml")])
    as_json = runner.invoke(main, ["export", "asyncapi", example, "-o", str(tmp_path / "api.json")])
    assert (as_yaml.exit_code, as_json.exit_code) == (0, 0), as_yaml.output + as_json.output
    from_yaml = yaml.safe_load((tmp_path / "api.yaml").read_text())
    from_json = json.loads((tmp_path / "api.json").read_text())
    assert from_yaml == from_json
    assert errors(from_yaml) == []
