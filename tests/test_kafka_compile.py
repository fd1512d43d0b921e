"""Kafka compile: channels and native declarations become topics, ACLs and users (no broker needed)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from brokerform.compile import compile_manifest
from brokerform.errors import ManifestError
from brokerform.manifest.loader import load_manifest
from brokerform.providers.kafka.compile import acl_name, comparable_config, normalise_config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "kafka-clickstream"

TARGET = """\
brokerform: 1
targets:
  k:
    type: kafka
    bootstrap_servers: 127.0.0.1:19092
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: admin, password: "${env:KAFKA_SASL_PASSWORD:-admin-secret}"}
"""


def compile_text(tmp_path: Path, target_body: str = "", top_body: str = "") -> dict:
    """Compile TARGET plus extra target keys (`target_body`) and top-level keys (`top_body`)."""
    path = tmp_path / "manifest.yaml"
    path.write_text(TARGET + textwrap.indent(textwrap.dedent(target_body), "    ") + textwrap.dedent(top_body))
    return compile_manifest(load_manifest(path, None, {}))["k"].resources


def by_kind(resources: dict, kind: str) -> dict:
    return {a.name: r for a, r in resources.items() if a.kind == kind}


def compile_errors(tmp_path: Path, target_body: str = "", top_body: str = "") -> list[str]:
    with pytest.raises(ManifestError) as info:
        compile_text(tmp_path, target_body, top_body)
    return [str(p) for p in info.value.problems]


def test_example_compiles_channels_into_topics_dlq_and_retry_tiers():
    loaded = load_manifest(EXAMPLE, None, {"prefix": "cs."})
    resources = compile_manifest(loaded)["clickstream-kafka"].resources
    topics = by_kind(resources, "topic")
    assert sorted(topics) == [
        "cs.clicks.raw", "cs.pageviews", "cs.sessions", "cs.sessions.dlq",
        "cs.sessions.retry.1m", "cs.sessions.retry.2m", "cs.sessions.retry.30s", "cs.user-profiles",
    ]
    assert topics["cs.pageviews"].properties == {
        "partitions": 6, "replication_factor": 1,
        "configs": {"max.message.bytes": "262144", "min.insync.replicas": "1", "retention.ms": "604800000"},
    }
    assert topics["cs.sessions"].properties["configs"] == {"retention.bytes": "1073741824", "retention.ms": "172800000"}
    assert topics["cs.sessions.dlq"].properties["configs"] == {"retention.ms": "1209600000"}
    assert topics["cs.sessions.retry.30s"].properties["configs"] == {"retention.ms": "172800000"}
    assert topics["cs.clicks.raw"].properties["configs"] == {
        "compression.type": "lz4", "max.message.bytes": "524288", "retention.ms": "259200000", "segment.bytes": "268435456",
    }
    assert topics["cs.user-profiles"].protect is True


def test_pubsub_subscriptions_get_their_own_consumer_group_named_topic_dot_subscription():
    loaded = load_manifest(EXAMPLE, None, {"prefix": "cs."})
    acls = by_kind(compile_manifest(loaded)["clickstream-kafka"].resources, "acl")
    assert "ALLOW User:clickstream-sessionizer@* READ GROUP:LITERAL:cs.pageviews.sessionizer" in acls
    assert "ALLOW User:clickstream-loader@* READ GROUP:LITERAL:cs.pageviews.warehouse" in acls
    assert "ALLOW User:clickstream-collector@* WRITE TOPIC:LITERAL:cs.pageviews" in acls
    assert "ALLOW User:clickstream-collector@* DESCRIBE TOPIC:LITERAL:cs.pageviews" in acls
    assert not any(name.startswith("ALLOW User:clickstream-collector@* READ") for name in acls)


def test_competing_consumers_read_the_retry_tiers_and_write_the_dead_letter_topic():
    loaded = load_manifest(EXAMPLE, None, {"prefix": "cs."})
    acls = by_kind(compile_manifest(loaded)["clickstream-kafka"].resources, "acl")
    loader = sorted(n.split(" ", 1)[1] for n in acls if "User:clickstream-loader@" in n and "session" in n)
    assert loader == sorted([
        "User:clickstream-loader@* DESCRIBE TOPIC:LITERAL:cs.sessions",
        "User:clickstream-loader@* READ TOPIC:LITERAL:cs.sessions",
        "User:clickstream-loader@* READ GROUP:LITERAL:cs.session-loader",
        *[f"User:clickstream-loader@* {op} TOPIC:LITERAL:cs.sessions.retry.{d}"
          for d in ("30s", "1m", "2m") for op in ("READ", "DESCRIBE", "WRITE")],
        "User:clickstream-loader@* WRITE TOPIC:LITERAL:cs.sessions.dlq",
        "User:clickstream-loader@* DESCRIBE TOPIC:LITERAL:cs.sessions.dlq",
    ])


def test_acl_identity_is_every_field_and_depends_on_the_declared_topic():
    loaded = load_manifest(EXAMPLE, None, {"prefix": "cs."})
    resources = compile_manifest(loaded)["clickstream-kafka"].resources
    acl = by_kind(resources, "acl")["DENY User:alice@* READ TOPIC:LITERAL:cs.user-profiles"]
    assert acl.properties == {"principal": "User:alice", "host": "*", "operation": "READ", "permission": "DENY",
                              "resource_type": "TOPIC", "resource_name": "cs.user-profiles", "pattern_type": "LITERAL"}
    assert acl_name(acl.properties) == acl.address.name
    assert [d.name for d in acl.depends_on] == ["cs.user-profiles"]


def test_scram_users_never_carry_the_password_in_properties():
    loaded = load_manifest(EXAMPLE, None, {"prefix": "cs."})
    users = by_kind(compile_manifest(loaded)["clickstream-kafka"].resources, "user")
    assert users["clickstream-collector"].properties == {"mechanism": "SCRAM-SHA-256", "iterations": 8192}


def test_service_consumer_group_with_star_is_a_prefixed_acl(tmp_path):
    resources = compile_text(tmp_path, """\
        topics:
          orders: {partitions: 3}
        services:
          billing:
            principal: User:billing
            consumes: [orders]
            group: "billing-*"
        """)
    acls = sorted(by_kind(resources, "acl"))
    assert acls == [
        "ALLOW User:billing@* DESCRIBE TOPIC:LITERAL:orders",
        "ALLOW User:billing@* READ GROUP:PREFIXED:billing-",
        "ALLOW User:billing@* READ TOPIC:LITERAL:orders",
    ]


def test_retention_sugar_and_duration_spellings_all_become_milliseconds(tmp_path):
    resources = compile_text(tmp_path, """\
            topics:
              a: {retention: 7d}
              b: {configs: {retention.ms: 604800000, segment.bytes: 1GiB, cleanup.policy: [compact, delete]}}
              c: {configs: {retention.ms: "7d", preallocate: true, min.cleanable.dirty.ratio: 0.5}}
        """)
    topics = by_kind(resources, "topic")
    assert topics["a"].properties == {"configs": {"retention.ms": "604800000"}}
    assert topics["b"].properties["configs"] == {
        "cleanup.policy": "compact,delete", "retention.ms": "604800000", "segment.bytes": "1073741824"}
    assert topics["c"].properties["configs"] == {
        "min.cleanable.dirty.ratio": "0.5", "preallocate": "true", "retention.ms": "604800000"}


def test_config_values_normalise_before_comparing():
    assert normalise_config("retention.ms", "604800000") == normalise_config("retention.ms", 604800000) == "604800000"
    assert normalise_config("retention.ms", "1h30m") == "5400000"
    assert normalise_config("retention.bytes", "10MB") == "10000000"
    assert normalise_config("retention.ms", -1) == "-1"
    assert comparable_config("cleanup.policy", "delete, compact") == comparable_config("cleanup.policy", "compact,delete")


def test_invalid_duration_in_a_config_is_a_located_error(tmp_path):
    errors = compile_errors(tmp_path, """\
            topics:
              a: {configs: {retention.ms: "seven days"}}
        """)
    assert len(errors) == 1
    assert errors[0].startswith(f"{tmp_path / 'manifest.yaml'}:9:")
    assert "targets.k.topics.a.configs.\"retention.ms\": expected a duration" in errors[0]


def test_settings_kafka_cannot_express_are_located_errors(tmp_path):
    errors = compile_errors(tmp_path, top_body="""\
        channels:
          events:
            target: k
            pattern: competing-consumers
            consumer_group: workers
            durable: false
            max_length: {bytes: 1GiB, overflow: reject-publish}
        """)
    path = tmp_path / "manifest.yaml"
    assert errors == [
        f"{path}:13:14: channels.events.durable: Kafka topics are always durable (written to the log)",
        f"{path}:14:41: channels.events.max_length.overflow: Kafka can only drop the oldest segments at "
        "retention.bytes (overflow: drop-head)",
    ]


def test_quotas_compile_to_one_resource_per_entity_with_its_values(tmp_path):
    resources = compile_text(tmp_path, """\
            quotas:
              - {user: alice, producer_byte_rate: 1048576}
              - {user: bob, client_id: etl, consumer_byte_rate: 2048, request_percentage: 12.5}
        """)
    quotas = {name: r.properties for name, r in by_kind(resources, "quota").items()}
    assert quotas == {
        "user=alice": {"entity": {"user": "alice"}, "producer_byte_rate": 1048576},
        "user=bob,client-id=etl": {"entity": {"user": "bob", "client-id": "etl"}, "consumer_byte_rate": 2048,
                                   "request_percentage": 12.5},
    }


def test_tls_with_a_plaintext_protocol_is_refused(tmp_path):
    path = tmp_path / "manifest.yaml"
    path.write_text(TARGET.replace("SASL_PLAINTEXT", "SASL_PLAINTEXT\n    tls: {ca_file: ca.pem}"))
    with pytest.raises(ManifestError) as info:
        compile_manifest(load_manifest(path, None, {}))
    assert [p.message for p in info.value.problems] == [
        "tls is declared but security_protocol is SASL_PLAINTEXT: traffic would not be encrypted; use SSL or SASL_SSL"]


def test_misspelt_topic_configs_and_values_kafka_refuses_are_validate_errors(tmp_path):
    """Kafka refuses them when the topic is created: the rest of the apply has gone in by then."""
    errors = compile_errors(tmp_path, """\
            topics:
              t:
                partitions: 1
                configs:
                  cleanup.policy: deletee
                  retention.msx: 1d
                  min.insync.replicas: 0
                  compression.type: zip
                  some.future.config: kept
        """)
    manifest = tmp_path / "manifest.yaml"
    assert errors == [
        f'{manifest}:12:27: targets.k.topics.t.configs."cleanup.policy": Kafka expects delete, compact or both for '
        "cleanup.policy, got 'deletee'",
        f'{manifest}:13:26: targets.k.topics.t.configs."retention.msx": unknown topic config '
        "'retention.msx'; did you mean 'retention.ms'?",
        f'{manifest}:14:32: targets.k.topics.t.configs."min.insync.replicas": Kafka expects an integer >= 1 for '
        "min.insync.replicas, got '0'",
        f'{manifest}:15:29: targets.k.topics.t.configs."compression.type": Kafka expects one of uncompressed, zstd, '
        "lz4, snappy, gzip, producer for compression.type, got 'zip'",
    ]


def test_acl_principals_hosts_and_operations_are_checked_with_a_did_you_mean(tmp_path):
    errors = compile_errors(tmp_path, """\
            acls:
              - {principal: alice, operation: READ, resource_name: t}
              - {principal: "User:bob", operation: REED, resource_name: t}
              - {principal: "User:bob", operation: READ, resource_name: t, host: broker-1.internal}
              - {principal: "User:bob", operation: READ, resource_name: t, host: "10.0.0.7"}
        """)
    manifest = tmp_path / "manifest.yaml"
    assert errors == [
        f"{manifest}:9:21: targets.k.acls[0].principal: a Kafka principal is TYPE:NAME, like User:alice; got 'alice'",
        f"{manifest}:10:44: targets.k.acls[1].operation: expected one of ALL, READ, WRITE, CREATE, DELETE, ALTER, "
        "DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, got 'REED'; did you mean 'READ'?",
        f"{manifest}:11:74: targets.k.acls[2].host: an ACL host is * or an IP address (Kafka does not resolve names), "
        "got 'broker-1.internal'",
    ]


def test_acls_and_config_values_the_broker_refuses_at_apply_are_located_load_errors(tmp_path):
    """Kafka 4.1 answers INVALID_REQUEST / INVALID_CONFIG for these only when the apply reaches them."""
    errors = compile_errors(tmp_path, """\
            topics:
              t:
                partitions: 1
                configs: {segment.bytes: 10, segment.index.bytes: 1MiB, compression.lz4.level: 18, max.message.bytes: 3GiB}
            acls:
              - {principal: "User:bob", operation: DESCRIBE, resource_type: CLUSTER, resource_name: prod}
              - {principal: "User:bob", operation: READ, resource_name: ""}
              - {principal: "User:bob", operation: ALTER, resource_type: CLUSTER, resource_name: kafka-cluster}
        """)
    manifest = tmp_path / "manifest.yaml"
    assert errors == [
        f'{manifest}:11:34: targets.k.topics.t.configs."segment.bytes": Kafka expects an integer >= 1048576 for '
        "segment.bytes, got '10'",
        f'{manifest}:11:88: targets.k.topics.t.configs."compression.lz4.level": Kafka expects an integer from 1 to 17 '
        "for compression.lz4.level, got '18'",
        f'{manifest}:11:111: targets.k.topics.t.configs."max.message.bytes": Kafka expects an integer <= 2147483647 '
        "for max.message.bytes, got '3221225472'",
        f"{manifest}:13:93: targets.k.acls[0].resource_name: the only resource_name of a CLUSTER ACL is "
        "kafka-cluster, got 'prod'",
        f"{manifest}:14:65: targets.k.acls[1].resource_name: Kafka refuses an ACL with an empty resource_name",
    ]
