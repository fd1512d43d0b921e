"""`brokerform import kafka` round-trips live topics and ACLs: import, then plan shows no changes.

The shared corpus holds Kafka declarations in other tools' formats (topicctl, Strimzi, JulieOps,
kafka-gitops, jikkou). Small translators below turn each file into topics and ACLs, created with
the admin API under a unique prefix; the import of that prefix must then plan clean.
Single-broker adjustments: replication factors are capped at 1 and segment.bytes raised to
Kafka 4's 1 MiB minimum; jikkou's regex (MATCH) patterns become PREFIXED on their literal head.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from test_kafka_provider import admin_client, await_listed, cli, kafka, prefix, small_manifest  # noqa: F401 (fixtures)

pytestmark = pytest.mark.kafka

Topic = tuple[str, int, int, dict[str, str]]  # name, partitions, replication factor, configs
SEGMENT_BYTES_MIN = 1024 * 1024


def topic(name: str, partitions=1, replicas=1, configs: dict | None = None) -> Topic:
    configs = {k: str(v) for k, v in (configs or {}).items()}
    if "segment.bytes" in configs:
        configs["segment.bytes"] = str(max(int(configs["segment.bytes"]), SEGMENT_BYTES_MIN))
    return name, int(partitions), min(int(replicas), 1), configs


def acl(principal: str, operation: str, name: str, resource_type="TOPIC", pattern="LITERAL", host="*",
        permission="ALLOW") -> dict[str, str]:
    return {"principal": principal, "operation": operation.upper(), "resource_name": name,
            "resource_type": resource_type.upper(), "pattern_type": pattern, "host": host, "permission": permission}


# -- translators: (documents, prefix) -> (topics, acls) -------------------------------------------------
def from_topicctl(docs, p):
    topics = []
    for doc in docs:
        configs = dict(doc["spec"].get("settings") or {})
        if "retentionMinutes" in doc["spec"]:
            configs["retention.ms"] = doc["spec"]["retentionMinutes"] * 60_000
        topics.append(topic(p + doc["meta"]["name"], doc["spec"]["partitions"], doc["spec"].get("replicationFactor", 1), configs))
    return topics, []


def from_strimzi(docs, p):
    topics, acls = [], []
    pattern = {"literal": "LITERAL", "prefix": "PREFIXED"}
    for doc in docs:
        if doc["kind"] == "KafkaTopic":
            spec = doc.get("spec") or {}
            topics.append(topic(p + doc["metadata"]["name"], spec.get("partitions", 1), spec.get("replicas", 1), spec.get("config")))
        elif doc["kind"] == "KafkaUser":
            for rule in doc["spec"]["authorization"]["acls"]:
                resource = rule["resource"]
                for operation in rule.get("operations") or [rule.get("operation")]:
                    acls.append(acl(f"User:{doc['metadata']['name']}", operation, p + resource["name"], resource["type"],
                                    pattern[resource.get("patternType", "literal")], rule.get("host", "*")))
    return topics, acls


def from_julieops(docs, p):
    topics, acls = [], []
    for doc in docs:
        for project in doc.get("projects", []):
            base = f"{p}{project['name']}."
            for item in project.get("topics", []):
                config = dict(item.get("config") or {})
                partitions = config.pop("num.partitions", 1)
                replicas = config.pop("replication.factor", 1)
                topics.append(topic(base + item["name"], partitions, replicas, config))
            for consumer in project.get("consumers", []):
                acls += [acl(consumer["principal"], op, base, pattern="PREFIXED") for op in ("READ", "DESCRIBE")]
                acls.append(acl(consumer["principal"], "READ", base, "GROUP", "PREFIXED"))
            for producer in project.get("producers", []):
                acls += [acl(producer["principal"], op, base, pattern="PREFIXED") for op in ("WRITE", "DESCRIBE")]
            for app in project.get("streams", []) + project.get("connectors", []):
                for name in app.get("topics", {}).get("read", []):
                    acls.append(acl(app["principal"], "READ", base + name))
                for name in app.get("topics", {}).get("write", []):
                    acls.append(acl(app["principal"], "WRITE", base + name))
                if app.get("group"):
                    acls.append(acl(app["principal"], "READ", p + app["group"], "GROUP"))
        for registry in doc.get("platform", {}).get("schema_registry", []):
            acls += [acl(registry["principal"], op, p + registry["topic"]) for op in ("READ", "WRITE", "DESCRIBE")]
        for center in doc.get("platform", {}).get("control_center", []):
            acls.append(acl(center["principal"], "ALL", p + center["appId"], pattern="PREFIXED"))
    return topics, acls


def from_kafka_gitops(docs, p):
    topics, acls = [], []
    for doc in docs:
        for name, spec in doc.get("topics", {}).items():
            topics.append(topic(p + name, spec["partitions"], spec.get("replication", 1), spec.get("configs")))
        for service_name, service in doc.get("services", {}).items():
            for name in service.get("produces", []):
                acls += [acl(service["principal"], op, p + name) for op in ("WRITE", "DESCRIBE")]
            for name in service.get("consumes", []):
                acls += [acl(service["principal"], op, p + name) for op in ("READ", "DESCRIBE")]
                acls.append(acl(service["principal"], "READ", p + service_name, "GROUP"))
    return topics, acls


def from_jikkou(docs, p):
    topics, acls, roles, config_maps = [], [], {}, {}
    for doc in docs:
        if doc["kind"] == "ConfigMap":
            config_maps[doc["metadata"]["name"]] = doc["data"]
    for doc in docs:
        kind = doc["kind"]
        items = doc["items"] if kind == "KafkaTopicList" else [doc] if kind == "KafkaTopic" else []
        for item in items:
            spec = item["spec"]
            configs = {}
            for ref in spec.get("configMapRefs", []):
                configs.update(config_maps[ref])
            configs.update(spec.get("configs") or {})
            topics.append(topic(p + item["metadata"]["name"], spec["partitions"],
                                spec.get("replicas", spec.get("replicationFactor", 1)), configs))
        if kind == "KafkaPrincipalRole":
            roles[doc["metadata"]["name"]] = doc["spec"]["acls"]
    for doc in docs:
        if doc["kind"] == "KafkaPrincipalAuthorization":
            for role in doc["spec"]["roles"]:
                for rule in roles[role]:
                    resource = rule["resource"]
                    name, pattern = resource["pattern"], resource.get("patternType", "LITERAL").upper()
                    if pattern == "MATCH":  # a regex: Kafka has none, keep its literal head as a prefix
                        name, pattern = re.match(r"/?([\w-]*)", name).group(1), "PREFIXED"
                    for operation in rule["operations"]:
                        acls.append(acl(doc["metadata"]["name"], operation, p + name, resource["type"], pattern,
                                        rule.get("host", "*"), rule.get("type", "ALLOW").upper()))
    return topics, acls


def translate(path: Path, prefix: str):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    first = docs[0]
    if "meta" in first and "spec" in first:
        return from_topicctl(docs, prefix)
    if str(first.get("apiVersion", "")).startswith("kafka.strimzi.io"):
        return from_strimzi(docs, prefix)
    if "projects" in first:
        return from_julieops(docs, prefix)
    if "services" in first or ("topics" in first and "apiVersion" not in first):
        return from_kafka_gitops(docs, prefix)
    if "jikkou.io" in str(first.get("apiVersion", "")):
        return from_jikkou(docs, prefix)
    raise AssertionError(f"no translator for {path.name}")


def create_live(env: dict, prefix: str, topics: list[Topic], acls: list[dict]) -> None:
    from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, NewTopic, ResourcePatternType,
                                       ResourceType)

    admin = admin_client(env)
    if topics:
        new = [NewTopic(name, partitions, replicas, config=configs) for name, partitions, replicas, configs in topics]
        for future in admin.create_topics(new, operation_timeout=30).values():
            future.result()
        await_listed(admin, {t[0] for t in topics})
    if acls:
        bindings = [AclBinding(ResourceType[a["resource_type"]], a["resource_name"], ResourcePatternType[a["pattern_type"]],
                               a["principal"], a["host"], AclOperation[a["operation"]], AclPermissionType[a["permission"]])
                    for a in acls]
        for future in admin.create_acls(bindings).values():
            future.result()
        await_acls(admin, len(bindings), prefix)


def await_acls(admin, count: int, prefix: str) -> None:
    """The broker's authorizer shows new ACLs ~100 ms after the controller commits them."""
    from confluent_kafka.admin import (AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)

    every = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                             AclPermissionType.ANY)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if len([b for b in admin.describe_acls(every).result() if b.name.startswith(prefix)]) >= count:
            return
        time.sleep(0.1)


def import_args(env: dict, prefix: str, out: Path) -> list[str]:
    return ["import", "kafka", "--bootstrap-servers", env["KAFKA_BOOTSTRAP_SERVERS"], "--security-protocol",
            "SASL_PLAINTEXT", "--sasl-mechanism", "PLAIN", "--sasl-username", "admin",
            "--sasl-password-env", "KAFKA_SASL_PASSWORD", "--topic-prefix", prefix, "-o", out]


CORPUS_FILES = sorted((Path(__file__).resolve().parents[2] / "shared" / "corpus" / "kafka").glob("*.y*ml"))


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_corpus_declarations_round_trip_through_import(kafka, prefix, tmp_path, path):
    topics, acls = translate(path, prefix)
    assert topics or acls
    unique_acls = list({tuple(sorted(a.items())): a for a in acls}.values())
    create_live(kafka, prefix, topics, unique_acls)
    out = tmp_path / "imported.yaml"
    code, output = cli(*import_args(kafka, prefix, out))
    assert code == 0, output
    imported = yaml.safe_load(out.read_text())["targets"]["kafka"]
    assert sorted(imported.get("topics", {})) == sorted(t[0] for t in topics)
    assert len(imported.get("acls", [])) == len(unique_acls)
    code, output = cli("plan", out, "--detailed-exitcode")
    assert code == 0, output


def test_import_writes_non_default_configs_as_durations_and_passwords_as_references(kafka, prefix, tmp_path):
    manifest = small_manifest(tmp_path, prefix, """\
        topics:
          P.audit: {partitions: 2, configs: {retention.ms: 30d, cleanup.policy: delete}}
        acls:
          - {principal: "User:alice", operation: READ, resource_name: "P.audit"}
        """)
    assert cli("apply", manifest, "--auto-approve")[0] == 0
    out = tmp_path / "imported.yaml"
    assert cli(*import_args(kafka, prefix, out))[0] == 0
    target = yaml.safe_load(out.read_text())["targets"]["kafka"]
    assert target["sasl"] == {"mechanism": "PLAIN", "username": "admin", "password": "${env:KAFKA_SASL_PASSWORD}"}
    assert target["topics"] == {f"{prefix}audit": {"partitions": 2, "replication_factor": 1,
                                                   "configs": {"cleanup.policy": "delete", "retention.ms": "30d"}}}
    assert target["acls"] == [{"principal": "User:alice", "operation": "READ", "resource_name": f"{prefix}audit"}]
    assert target["users"] == {"alice": {"mechanism": "SCRAM-SHA-256", "iterations": 4096,
                                         "password": "${env:KAFKA_USER_ALICE_PASSWORD}"}}
    assert cli("plan", out, "--detailed-exitcode")[0] == 0
