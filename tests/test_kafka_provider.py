"""The Kafka provider against the real KRaft broker of scripts/services (SASL, ACLs, TLS).

Every test works under its own random topic prefix and deletes its topics and ACLs afterwards.
"""

from __future__ import annotations

import json
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from brokerform.cli import main

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "kafka-clickstream"
EXAMPLE_PASSWORDS = {"clickstream-collector": "collector-dev-secret", "clickstream-sessionizer": "sessionizer-dev-secret",
                     "clickstream-loader": "loader-dev-secret", "clickstream-enricher": "enricher-dev-secret"}


# -- helpers shared with test_kafka_import.py -------------------------------------------------------
def client_config(env: dict, user: str = "admin", password: str | None = None, mechanism: str = "PLAIN",
                  ssl: bool = False) -> dict:
    config = {
        "bootstrap.servers": env["KAFKA_SSL_BOOTSTRAP_SERVERS"] if ssl else env["KAFKA_BOOTSTRAP_SERVERS"],
        "security.protocol": "SASL_SSL" if ssl else "SASL_PLAINTEXT",
        "sasl.mechanism": mechanism,
        "sasl.username": user,
        "sasl.password": password if password is not None else (env["KAFKA_SASL_PASSWORD"] if user == "admin" else f"{user}-secret"),
        "log_level": 0,
    }
    if ssl:
        config["ssl.ca.location"] = env["KAFKA_CA_FILE"]
    return config


def admin_client(env: dict):
    from confluent_kafka.admin import AdminClient

    return AdminClient(client_config(env))


def delete_prefix(env: dict, prefix: str) -> None:
    """Delete every topic and ACL whose name starts with the prefix."""
    from confluent_kafka.admin import (AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)

    admin = admin_client(env)
    topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if topics:
        for future in admin.delete_topics(topics, operation_timeout=30).values():
            future.result()
    every = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                             AclPermissionType.ANY)
    ours = [b for b in admin.describe_acls(every).result() if b.name.startswith(prefix)]
    if ours:
        filters = [AclBindingFilter(b.restype, b.name, b.resource_pattern_type, b.principal, b.host, b.operation,
                                    b.permission_type) for b in ours]
        for future in admin.delete_acls(filters).values():
            future.result()


def await_listed(admin, names: set[str], timeout: float = 10) -> None:
    """Topics created by hand are listed once the broker's metadata catches up with the controller."""
    deadline = time.monotonic() + timeout
    while not names <= set(admin.list_topics(timeout=10).topics) and time.monotonic() < deadline:
        time.sleep(0.1)


AUDIT_LOG = Path(tempfile.gettempdir()) / "brokerform-kafka-tests-audit.jsonl"  # never inside examples/


def cli(*args) -> tuple[int, str]:
    result = CliRunner(env={"BROKERFORM_AUDIT_LOG": str(AUDIT_LOG)}).invoke(main, [str(a) for a in args],
                                                                            catch_exceptions=False)
    return result.exit_code, result.output


def topic_configs(env: dict, topic: str) -> dict[str, tuple[str, str]]:
    from confluent_kafka.admin import ConfigResource, ConfigSource, ResourceType

    admin = admin_client(env)
    futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)])
    entries = next(iter(futures.values())).result()
    return {k: (e.value, ConfigSource(e.source).name) for k, e in entries.items()}


@pytest.fixture
def kafka(service_env) -> dict:
    env = service_env("kafka")
    if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.fail("Kafka is not running: start it with scripts/services up kafka")
    return env


@pytest.fixture
def prefix(kafka):
    value = f"bf-{uuid.uuid4().hex[:8]}."
    yield value
    delete_prefix(kafka, value)


def small_manifest(tmp_path: Path, prefix: str, target_body: str, name: str = "manifest.yaml") -> Path:
    """A SASL_PLAINTEXT manifest whose scope is the test's prefix; `P` in the body stands for the prefix."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(f"""\
        brokerform: 1
        targets:
          k:
            type: kafka
            bootstrap_servers: ${{env:KAFKA_BOOTSTRAP_SERVERS}}
            security_protocol: SASL_PLAINTEXT
            sasl: {{mechanism: PLAIN, username: admin, password: "${{env:KAFKA_SASL_PASSWORD}}"}}
            scope: {{topic_prefixes: ["{prefix}"]}}
        """) + textwrap.indent(textwrap.dedent(target_body).replace("P.", prefix), "    "))
    return path


def produce(config: dict, topic: str) -> str | None:
    """Produce one message; the delivery error name, or None when it was written."""
    from confluent_kafka import Producer

    outcome: list = []
    producer = Producer({**config, "message.timeout.ms": 8000})
    producer.produce(topic, b'{"page": "/checkout"}', key=b"user-1", on_delivery=lambda err, msg: outcome.append(err))
    producer.flush(15)
    return outcome[0].name() if outcome and outcome[0] is not None else (None if outcome else "NO_REPORT")


def consume(config: dict, topic: str, group: str, timeout: float = 20.0) -> str:
    """Consume from the beginning: 'ok' when a message arrives, else the first error's name."""
    from confluent_kafka import Consumer

    consumer = Consumer({**config, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                if message.error().name() == "_PARTITION_EOF":
                    continue
                return message.error().name()
            return "ok"
        return "TIMEOUT"
    finally:
        consumer.close()


# -- the example ---------------------------------------------------------------------------------
@pytest.fixture
def applied_example(kafka, prefix):
    code, output = cli("apply", EXAMPLE, "--var", f"prefix={prefix}", "--auto-approve")
    assert code == 0, output
    return prefix


def test_clickstream_example_applies_over_sasl_ssl_and_replans_with_no_changes(kafka, applied_example):
    prefix = applied_example
    code, output = cli("plan", EXAMPLE, "--var", f"prefix={prefix}", "--detailed-exitcode")
    assert code == 0, output
    assert "No changes" in output
    metadata = admin_client(kafka).list_topics(timeout=10)
    ours = sorted(t for t in metadata.topics if t.startswith(prefix))
    assert ours == [prefix + t for t in ("clicks.raw", "pageviews", "sessions", "sessions.dlq", "sessions.retry.1m",
                                         "sessions.retry.2m", "sessions.retry.30s", "user-profiles")]
    assert len(metadata.topics[prefix + "pageviews"].partitions) == 6
    assert topic_configs(kafka, prefix + "pageviews")["retention.ms"] == ("604800000", "DYNAMIC_TOPIC_CONFIG")
    assert topic_configs(kafka, prefix + "user-profiles")["cleanup.policy"] == ("compact", "DYNAMIC_TOPIC_CONFIG")


def test_example_acls_allow_and_deny_exactly_as_declared(kafka, applied_example):
    prefix = applied_example
    pageviews = prefix + "pageviews"
    collector = client_config(kafka, "clickstream-collector", EXAMPLE_PASSWORDS["clickstream-collector"], "SCRAM-SHA-256")
    sessionizer = client_config(kafka, "clickstream-sessionizer", EXAMPLE_PASSWORDS["clickstream-sessionizer"],
                                "SCRAM-SHA-256")
    alice, bob = client_config(kafka, "alice"), client_config(kafka, "bob")
    assert produce(collector, pageviews) is None
    assert produce(bob, pageviews) == "TOPIC_AUTHORIZATION_FAILED"
    assert produce(sessionizer, pageviews) == "TOPIC_AUTHORIZATION_FAILED"  # a consumer, not a producer
    assert consume(sessionizer, pageviews, f"{pageviews}.sessionizer") == "ok"
    assert consume(sessionizer, pageviews, f"{pageviews}.warehouse") == "GROUP_AUTHORIZATION_FAILED"
    assert consume(alice, pageviews, f"{prefix}analysts-adhoc") == "ok"  # PREFIXED topic and group ACLs
    assert consume(alice, prefix + "user-profiles", f"{prefix}analysts-adhoc") == "TOPIC_AUTHORIZATION_FAILED"  # DENY
    assert consume(bob, pageviews, f"{prefix}analysts-adhoc") == "GROUP_AUTHORIZATION_FAILED"


def test_a_config_changed_by_hand_shows_as_drift_with_its_source_and_is_repaired(kafka, applied_example):
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

    topic = applied_example + "pageviews"
    entries = [ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET),
               ConfigEntry("segment.ms", "600000", incremental_operation=AlterConfigOpType.SET)]
    admin = admin_client(kafka)
    for future in admin.incremental_alter_configs(
            [ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)]).values():
        future.result()
    deadline = time.monotonic() + 10  # the broker serves configs from metadata that trails the controller
    while topic_configs(kafka, topic)["segment.ms"][0] != "600000" and time.monotonic() < deadline:
        time.sleep(0.1)
    code, output = cli("plan", EXAMPLE, "--var", f"prefix={applied_example}", "--detailed-exitcode", "--output", "json")
    assert code == 2
    changes = [c for t in json.loads(output)["targets"] for c in t["changes"] if c["action"] != "noop"]
    assert [(c["address"]["name"], c["action"]) for c in changes] == [(topic, "update")]
    assert [(a["path"], a["before"], a["after"]) for a in changes[0]["attributes"]] == [
        ("configs.retention.ms", "3600000", "604800000"), ("configs.segment.ms", "600000", None)]
    assert changes[0]["note"] == ("current: retention.ms=3600000 from DYNAMIC_TOPIC_CONFIG, "
                                  "segment.ms=600000 from DYNAMIC_TOPIC_CONFIG")
    code, output = cli("apply", EXAMPLE, "--var", f"prefix={applied_example}", "--auto-approve")
    assert code == 0, output
    configs = topic_configs(kafka, topic)
    assert configs["retention.ms"] == ("604800000", "DYNAMIC_TOPIC_CONFIG")
    assert configs["segment.ms"] == ("604800000", "DEFAULT_CONFIG")
    assert cli("plan", EXAMPLE, "--var", f"prefix={applied_example}", "--detailed-exitcode")[0] == 0


# -- topics: partitions and configs -------------------------------------------------------------
TOPIC_3 = """\
    topics:
      P.orders:
        partitions: 3
        configs: {retention.ms: 1d, cleanup.policy: delete, max.message.bytes: 2MiB}
    """


def test_partition_decrease_is_blocked_at_plan_time_and_nothing_is_applied(kafka, prefix, tmp_path):
    assert cli("apply", small_manifest(tmp_path, prefix, TOPIC_3), "--auto-approve")[0] == 0
    fewer = small_manifest(tmp_path, prefix, TOPIC_3.replace("partitions: 3", "partitions: 2").replace("1d", "2d"), "b.yaml")
    code, output = cli("plan", fewer, "--detailed-exitcode")
    assert code == 1
    assert "Kafka cannot remove partitions (3 -> 2)" in output
    code, output = cli("apply", fewer, "--auto-approve")
    assert code == 1 and "Nothing was applied" in output
    assert len(admin_client(kafka).list_topics(timeout=10).topics[prefix + "orders"].partitions) == 3
    assert topic_configs(kafka, prefix + "orders")["retention.ms"][0] == "86400000"


def test_partition_increase_is_applied_in_place(kafka, prefix, tmp_path):
    assert cli("apply", small_manifest(tmp_path, prefix, TOPIC_3), "--auto-approve")[0] == 0
    more = small_manifest(tmp_path, prefix, TOPIC_3.replace("partitions: 3", "partitions: 5"), "b.yaml")
    code, output = cli("plan", more, "--output", "json")
    change = next(c for c in json.loads(output)["targets"][0]["changes"] if c["action"] != "noop")
    assert (change["action"], change["attributes"]) == ("update", [
        {"path": "partitions", "before": 3, "after": 5, "forces_replace": False}])
    assert cli("apply", more, "--auto-approve")[0] == 0
    assert len(admin_client(kafka).list_topics(timeout=10).topics[prefix + "orders"].partitions) == 5
    assert cli("plan", more, "--detailed-exitcode")[0] == 0


def test_replication_factor_change_is_blocked_with_the_reason(kafka, prefix, tmp_path):
    assert cli("apply", small_manifest(tmp_path, prefix, TOPIC_3), "--auto-approve")[0] == 0
    wider = small_manifest(tmp_path, prefix, TOPIC_3.replace("partitions: 3", "partitions: 3\n        replication_factor: 3"), "b.yaml")
    code, output = cli("plan", wider, "--detailed-exitcode")
    assert code == 1
    assert "changing the replication factor (1 -> 3) needs a partition reassignment" in output


def test_a_config_removed_from_the_manifest_returns_to_the_broker_default(kafka, prefix, tmp_path):
    assert cli("apply", small_manifest(tmp_path, prefix, TOPIC_3), "--auto-approve")[0] == 0
    assert topic_configs(kafka, prefix + "orders")["max.message.bytes"] == ("2097152", "DYNAMIC_TOPIC_CONFIG")
    fewer = small_manifest(tmp_path, prefix, TOPIC_3.replace(", max.message.bytes: 2MiB", ""), "b.yaml")
    code, output = cli("plan", fewer, "--detailed-exitcode")
    assert code == 2 and "max.message.bytes" in output
    assert cli("apply", fewer, "--auto-approve")[0] == 0
    assert topic_configs(kafka, prefix + "orders")["max.message.bytes"] == ("1048588", "DEFAULT_CONFIG")
    assert cli("plan", fewer, "--detailed-exitcode")[0] == 0


def test_broker_defaults_never_produce_a_diff(kafka, prefix, tmp_path):
    from confluent_kafka.admin import NewTopic

    admin = admin_client(kafka)
    for future in admin.create_topics([NewTopic(prefix + "legacy", 2, 1)]).values():
        future.result()  # created by hand: every config comes from the broker's defaults
    await_listed(admin, {prefix + "legacy"})
    manifest = small_manifest(tmp_path, prefix, """\
        topics:
          P.legacy:
            partitions: 2
            configs: {cleanup.policy: delete, min.insync.replicas: 1, retention.ms: 7d}
        """)
    code, output = cli("plan", manifest, "--detailed-exitcode")
    assert code == 0, output


def test_declared_resources_outside_the_scope_are_compared_not_recreated(kafka, prefix, tmp_path):
    manifest = small_manifest(tmp_path, prefix, """\
        topics:
          P.jobs: {partitions: 1}
        acls:
          - {principal: "User:bob", operation: READ, resource_type: GROUP, resource_name: "other-group-P."}
        """)
    assert cli("apply", manifest, "--auto-approve")[0] == 0
    try:
        assert cli("plan", manifest, "--detailed-exitcode")[0] == 0
    finally:
        delete_prefix(kafka, "other-group-" + prefix)


# -- lock ----------------------------------------------------------------------------------------
def test_apply_lock_is_exclusive_names_its_holder_and_is_released(kafka, prefix, tmp_path):
    from brokerform.errors import ProviderError
    from brokerform.manifest.loader import load_manifest
    from brokerform.providers.kafka.provider import KafkaProvider

    loaded = load_manifest(small_manifest(tmp_path, prefix, TOPIC_3), None, {})
    target = loaded.manifest.targets["k"]
    first, second = KafkaProvider("k", target), KafkaProvider("k", target)
    with first.lock("alice@ci pid 1", 5):
        with pytest.raises(ProviderError, match=r"held by alice@ci pid 1 for \d+s"):
            with second.lock("bob@laptop pid 2", 1.5):
                pass
    with second.lock("bob@laptop pid 2", 5):
        assert first.lock_topic() in admin_client(kafka).list_topics(timeout=10).topics
    assert first.lock_topic() not in admin_client(kafka).list_topics(timeout=10).topics


def test_data_in_a_topic_makes_its_deletion_destructive(kafka, prefix, tmp_path):
    from confluent_kafka import Producer

    assert cli("apply", small_manifest(tmp_path, prefix, TOPIC_3), "--auto-approve")[0] == 0
    producer = Producer(client_config(kafka))
    for _ in range(3):
        producer.produce(prefix + "orders", b"order")
    producer.flush(10)
    empty = small_manifest(tmp_path, prefix, "topics: {}\n", "b.yaml")
    code, output = cli("plan", empty, "--prune", "--output", "json")
    change = json.loads(output)["targets"][0]["changes"][0]
    assert (change["action"], change["destructive"], change["messages"]) == ("delete", True, 3)
    assert cli("apply", empty, "--prune", "--auto-approve")[0] == 1  # refused without --allow-data-loss


def test_updates_of_many_topics_go_to_the_broker_in_one_request_per_kind(kafka, prefix, tmp_path, monkeypatch):
    from brokerform.providers.kafka import provider as kafka_provider

    body = "topics:\n" + "".join(f"  P.t{i}: {{partitions: 1, configs: {{retention.ms: 1d}}}}\n" for i in range(3))
    assert cli("apply", small_manifest(tmp_path, prefix, body), "--auto-approve")[0] == 0
    changed = body.replace("1d", "2d").replace("P.t0: {partitions: 1", "P.t0: {partitions: 2")
    calls: list[tuple[str, int]] = []

    class CountingAdmin:
        def __init__(self, real):
            self.real = real

        def __getattr__(self, name):
            method = getattr(self.real, name)
            if name not in ("incremental_alter_configs", "create_partitions"):
                return method
            return lambda batch, **kwargs: calls.append((name, len(batch))) or method(batch, **kwargs)

    real_admin = kafka_provider.KafkaProvider.admin
    monkeypatch.setattr(kafka_provider.KafkaProvider, "admin", property(lambda self: CountingAdmin(real_admin.fget(self))))
    code, output = cli("apply", small_manifest(tmp_path, prefix, changed, "b.yaml"), "--auto-approve")
    assert code == 0, output
    assert sorted(calls) == [("create_partitions", 1), ("incremental_alter_configs", 3)]
    assert [topic_configs(kafka, f"{prefix}t{i}")["retention.ms"][0] for i in range(3)] == ["172800000"] * 3
    assert len(admin_client(kafka).list_topics(timeout=10).topics[prefix + "t0"].partitions) == 2
    assert cli("plan", small_manifest(tmp_path, prefix, changed, "b.yaml"), "--detailed-exitcode")[0] == 0


def test_a_failed_connection_names_its_reason_and_prints_no_client_log_lines(kafka, tmp_path):
    """librdkafka logs every failed attempt to stderr (about 20 lines a second) and its API error
    only says "Broker transport failure": brokerform keeps the log and names the reason."""
    import os
    import subprocess
    import sys

    manifest = tmp_path / "no-ca.yaml"
    manifest.write_text(textwrap.dedent("""\
        brokerform: 1
        targets:
          k:
            type: kafka
            bootstrap_servers: ${env:KAFKA_SSL_BOOTSTRAP_SERVERS}
            security_protocol: SASL_SSL
            timeout: 3s
            sasl: {mechanism: PLAIN, username: admin, password: "${env:KAFKA_SASL_PASSWORD}"}
            topics:
              bf-no-ca.t: {partitions: 1}
        """))
    result = subprocess.run([sys.executable, "-c", "from brokerform.cli import main; main()", "plan", str(manifest)],
                            capture_output=True,
                            text=True, timeout=60, env={**os.environ, **kafka})
    assert result.returncode == 1
    assert (f"error: cannot list topics on {kafka['KAFKA_SSL_BOOTSTRAP_SERVERS']}: Failed to get metadata: "
            "Local: Broker transport failure (_TRANSPORT); librdkafka: ") in result.stdout
    assert "SSL handshake failed" in result.stdout and "certificate verify failed" in result.stdout
    assert "%3|" not in result.stderr and "rdkafka#" not in result.stderr


def test_a_principal_without_describe_permissions_gets_named_errors_not_an_abort_or_a_wrong_plan(kafka, prefix,
                                                                                                tmp_path):
    """Without DESCRIBE the broker hides topics and answers DescribeAcls with an empty list, and a refused
    DescribeUserScramCredentials aborted the process inside confluent-kafka (exit 134, no message)."""
    import os
    import subprocess
    import sys

    from confluent_kafka.admin import AclBinding, AclOperation, AclPermissionType, ResourcePatternType, ResourceType

    def plan_as_bob(scope: str, extra: str = "") -> tuple[int, str]:
        path = tmp_path / "bob.yaml"
        path.write_text(textwrap.dedent(f"""\
            targets:
              k:
                type: kafka
                bootstrap_servers: ${{env:KAFKA_BOOTSTRAP_SERVERS}}
                security_protocol: SASL_PLAINTEXT
                sasl: {{mechanism: PLAIN, username: bob, password: "${{env:BOB_PASSWORD}}"}}
                scope: {{topic_prefixes: ["{prefix}"]{scope}}}
                topics:
                  {prefix}orders: {{partitions: 1}}
            """) + extra)
        done = subprocess.run([sys.executable, "-m", "brokerform.cli", "plan", str(path)], capture_output=True, text=True,
                              timeout=120, env={**os.environ, **kafka, "BOB_PASSWORD": "bob-secret", "CI": "1"})
        return done.returncode, done.stdout + done.stderr

    assert plan_as_bob("") == (1, "Target k (kafka)\n  error: User:bob may not describe ACLs: it needs DESCRIBE on the "
                                  "cluster (or the broker does not report permissions); grant it, or set "
                                  "scope.manage_acls: false to leave them alone\n\n"
                                  "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete.\n")
    code, output = plan_as_bob(", manage_acls: false", f"    users:\n      {prefix}svc: {{password: \"${{env:BOB_PASSWORD}}\"}}\n")
    assert (code, output.splitlines()[1]) == (1, "  error: User:bob may not describe SCRAM users: it needs DESCRIBE on "
                                                 "the cluster (or the broker does not report permissions); grant it, or "
                                                 "set scope.manage_users: false to leave them alone")
    code, output = plan_as_bob(", manage_acls: false")
    assert (code, output.splitlines()[1]) == (1, f"  error: User:bob may not describe topic(s) {prefix}orders: they may "
                                                 "exist already, so the plan cannot tell whether to create them; grant "
                                                 "DESCRIBE on them (a prefixed ACL on the scope's topic prefix) or plan "
                                                 "as a principal that may")

    grant = AclBinding(ResourceType.TOPIC, prefix, ResourcePatternType.PREFIXED, "User:bob", "*",
                       AclOperation.DESCRIBE, AclPermissionType.ALLOW)
    admin = admin_client(kafka)
    for future in admin.create_acls([grant]).values():
        future.result()
    deadline = time.monotonic() + 20
    while (result := plan_as_bob(", manage_acls: false"))[0] != 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # the ACL reaches the broker's authorizer shortly after the controller commits it
    assert result[0] == 0 and f"+ topic {prefix}orders" in result[1]


def test_an_acl_deleted_by_hand_is_recreated_when_its_topic_is_updated_with_others(kafka, prefix, tmp_path):
    """Two topic updates take the bulk path; the ACL on one of them must be created after it, not skipped."""
    from confluent_kafka.admin import AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType, ResourceType

    body = """\
        topics:
          P.a: {partitions: 1, configs: {retention.ms: 1h}}
          P.b: {partitions: 1, configs: {retention.ms: 1h}}
        acls:
          - {principal: "User:bob", operation: READ, resource_name: P.a}
        """
    assert cli("apply", small_manifest(tmp_path, prefix, body), "--auto-approve")[0] == 0
    acl = AclBindingFilter(ResourceType.TOPIC, prefix + "a", ResourcePatternType.LITERAL, "User:bob", "*",
                           AclOperation.READ, AclPermissionType.ALLOW)
    admin = admin_client(kafka)
    for future in admin.delete_acls([acl]).values():
        future.result()
    deadline = time.monotonic() + 10
    while admin.describe_acls(acl).result() and time.monotonic() < deadline:
        time.sleep(0.1)
    changed = small_manifest(tmp_path, prefix, body.replace("1h", "2h"), "b.yaml")
    code, output = cli("apply", changed, "--auto-approve")
    assert code == 0, output
    assert "3 succeeded, 0 failed, 0 skipped" in output
    assert [b.name for b in admin.describe_acls(acl).result()] == [prefix + "a"]
    assert [topic_configs(kafka, prefix + t)["retention.ms"][0] for t in "ab"] == ["7200000"] * 2
    assert cli("plan", changed, "--detailed-exitcode")[0] == 0


def test_the_config_bounds_checked_at_load_are_the_brokers_own(kafka, prefix):
    """Each lower bound of compile._CONFIG_RANGES is accepted by the broker and one below is refused
    (validate-only CreateTopics: nothing is created)."""
    from confluent_kafka.admin import NewTopic

    from brokerform.providers.kafka.compile import _CONFIG_RANGES, config_problem

    admin = admin_client(kafka)

    def refused(key: str, value: int) -> bool:
        future = admin.create_topics([NewTopic(prefix + "bounds", 1, 1, config={key: str(value)})], validate_only=True)
        try:
            next(iter(future.values())).result()
            return False
        except Exception:  # noqa: BLE001 - KafkaException: INVALID_CONFIG
            return True

    for key, (low, high) in _CONFIG_RANGES.items():
        if key == "retention.bytes":
            continue  # every long is accepted
        assert (refused(key, low - 1), refused(key, low)) == (True, False), key
        assert (config_problem(key, str(low - 1)) is not None, config_problem(key, str(low))) == (True, None), key
        assert (refused(key, high + 1), refused(key, high)) == (True, False), key


def test_apply_lock_timeout_takes_a_duration_like_the_manifest_setting(kafka, prefix, tmp_path):
    from brokerform.manifest.loader import load_manifest
    from brokerform.providers.kafka.provider import KafkaProvider

    manifest = small_manifest(tmp_path, prefix, TOPIC_3)
    holder = KafkaProvider("k", load_manifest(manifest, None, {}).manifest.targets["k"])
    with holder.lock("alice@ci pid 1", 5):
        started = time.monotonic()
        code, output = cli("apply", manifest, "--auto-approve", "--lock-timeout", "2s")
        waited = time.monotonic() - started
    assert code == 1, output
    assert "timed out after 2s waiting for the apply lock" in output and "held by alice@ci pid 1" in output
    assert 2 <= waited < 15
    code, output = cli("apply", manifest, "--auto-approve", "--lock-timeout", "2 minutes")
    assert code == 1  # brokerform's usage-error exit code, like --parallelism 0
    assert ("Invalid value for '--lock-timeout': expected a duration like 30s, 2m or 1m30s, or a number of seconds; "
            "got '2 minutes'") in output
    assert cli("apply", manifest, "--auto-approve", "--lock-timeout", "1m")[0] == 0
