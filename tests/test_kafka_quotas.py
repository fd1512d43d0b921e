"""Client quotas (the brief's producer throttling) against the real Kafka broker.

confluent-kafka has no quota API, so brokerform speaks DescribeClientQuotas/AlterClientQuotas
itself (providers/kafka/quotas.py); these tests check it with PLAIN, SCRAM and TLS, and the
plan/apply flow: create, in-sync re-plan, update, removing one value, deleting with --prune.
"""

from __future__ import annotations

import uuid

import pytest
from test_kafka_provider import cli, client_config, kafka, prefix, small_manifest  # noqa: F401 - fixtures

from brokerform.errors import ManifestError
from brokerform.manifest.loader import load_manifest
from brokerform.compile import compile_manifest
from brokerform.providers.kafka.quotas import QuotaClient

pytestmark = pytest.mark.kafka


def live_quotas(env: dict, client_id: str) -> dict[str, float]:
    with QuotaClient(client_config(env)) as client:
        return {k: v for entity, values in client.describe() if entity.get("client-id") == client_id
                for k, v in values.items()}


@pytest.fixture
def client_id(kafka):
    value = f"bf-quota-{uuid.uuid4().hex[:8]}"
    yield value
    with QuotaClient(client_config(kafka)) as client:
        for entity, values in client.describe():
            if entity.get("client-id") == value:
                client.alter(entity, {}, list(values))


@pytest.mark.parametrize("mechanism, ssl", [("PLAIN", False), ("SCRAM-SHA-256", False), ("PLAIN", True)])
def test_the_quota_client_sets_reads_and_removes_values(kafka, client_id, mechanism, ssl):
    entity = {"user": "alice", "client-id": client_id}
    with QuotaClient(client_config(kafka, mechanism=mechanism, ssl=ssl)) as client:
        client.alter(entity, {"producer_byte_rate": 1048576}, [])
        client.wait_until(entity, {"producer_byte_rate": 1048576})
        assert (entity, {"producer_byte_rate": 1048576.0}) in client.describe()
        client.alter(entity, {}, ["producer_byte_rate"])
        client.wait_until(entity, {})
        assert all(found.get("client-id") != client_id for found, _ in client.describe())


def test_quotas_are_planned_applied_and_updated_in_place(kafka, prefix, client_id, tmp_path):
    body = f"""\
        quotas:
          - {{client_id: {client_id}, producer_byte_rate: 1048576, consumer_byte_rate: 2097152}}
        """
    manifest = small_manifest(tmp_path, prefix, body)
    code, output = cli("apply", manifest, "--auto-approve")
    assert code == 0, output
    assert live_quotas(kafka, client_id) == {"producer_byte_rate": 1048576.0, "consumer_byte_rate": 2097152.0}
    assert cli("plan", manifest, "--detailed-exitcode")[0] == 0

    manifest = small_manifest(tmp_path, prefix, body.replace(", consumer_byte_rate: 2097152", "")
                              .replace("1048576", "524288"))
    code, output = cli("plan", manifest)
    assert f"~ quota client-id={client_id}" in output
    assert "consumer_byte_rate   2097152.0 -> (default)" in output
    assert cli("apply", manifest, "--auto-approve")[0] == 0
    assert live_quotas(kafka, client_id) == {"producer_byte_rate": 524288.0}

    assert cli("plan", manifest, "--detailed-exitcode")[0] == 0


def test_a_quota_without_an_entity_or_values_is_a_located_error(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text("targets:\n  k:\n    type: kafka\n    bootstrap_servers: h:1\n    quotas:\n"
                    "      - {producer_byte_rate: 10}\n      - {user: alice}\n")
    with pytest.raises(ManifestError) as err:
        compile_manifest(load_manifest(path))
    assert [str(p) for p in err.value.problems] == [
        f"{path}:6:9: targets.k.quotas[0]: a quota names a user, a client_id or both",
        f"{path}:7:9: targets.k.quotas[1]: a quota sets at least one of producer_byte_rate, consumer_byte_rate, "
        "request_percentage, controller_mutation_rate",
    ]


def test_the_default_user_entity_for_a_client_id_is_distinct_from_the_client_id_alone(kafka, client_id):
    """KIP-546: a default entity has a null name on the wire (as kafka-configs --entity-default sets
    it); the client names it `<default>` and never confuses (default user, X) with (X)."""
    with QuotaClient(client_config(kafka)) as client:
        client.alter({"user": None, "client-id": client_id}, {"producer_byte_rate": 1000}, [])
        client.alter({"client-id": client_id}, {"producer_byte_rate": 2000}, [])
        client.wait_until({"user": "<default>", "client-id": client_id}, {"producer_byte_rate": 1000}, timeout=10)
        client.wait_until({"client-id": client_id}, {"producer_byte_rate": 2000}, timeout=10)
        ours = [(entity, values) for entity, values in client.describe() if entity.get("client-id") == client_id]
        assert sorted(ours, key=lambda e: len(e[0])) == [
            ({"client-id": client_id}, {"producer_byte_rate": 2000.0}),
            ({"client-id": client_id, "user": "<default>"}, {"producer_byte_rate": 1000.0}),
        ]
        assert client.values_of({"user": "some-user", "client-id": client_id}) == {}


def test_default_entities_are_planned_applied_and_in_sync_afterwards(kafka, prefix, client_id, tmp_path):
    user = f"bf-quser-{client_id[-8:]}"
    body = f"""\
        quotas:
          - {{client_id: {client_id}, consumer_byte_rate: 2048}}
          - {{user: "<default>", client_id: {client_id}, producer_byte_rate: 4096}}
          - {{user: {user}, client_id: "<default>", request_percentage: 12.5}}
        """
    manifest = small_manifest(tmp_path, prefix, body)
    code, output = cli("apply", manifest, "--auto-approve")
    try:
        assert code == 0, output
        assert "3 succeeded, 0 failed, 0 skipped" in output
        with QuotaClient(client_config(kafka)) as client:
            assert client.values_of({"client-id": client_id}) == {"consumer_byte_rate": 2048.0}
            assert client.values_of({"user": None, "client-id": client_id}) == {"producer_byte_rate": 4096.0}
            assert client.values_of({"user": user, "client-id": "<default>"}) == {"request_percentage": 12.5}
            assert client.values_of({"user": user}) == {}
        assert cli("plan", manifest, "--detailed-exitcode")[0] == 0
        changed = small_manifest(tmp_path, prefix, body.replace("2048", "4096"), "b.yaml")
        code, output = cli("plan", changed)
        assert [line.strip() for line in output.splitlines() if "quota " in line] == [f"~ quota client-id={client_id}"]
        assert cli("apply", changed, "--auto-approve")[0] == 0
        assert cli("plan", changed, "--detailed-exitcode")[0] == 0
    finally:
        with QuotaClient(client_config(kafka)) as client:
            for entity, values in client.describe():
                if entity.get("user") == user:
                    client.alter(entity, {}, list(values))


def test_an_empty_quota_entity_name_is_a_located_error(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text("targets:\n  k:\n    type: kafka\n    bootstrap_servers: h:1\n    quotas:\n"
                    "      - {user: '', client_id: etl, producer_byte_rate: 10}\n")
    with pytest.raises(ManifestError) as err:
        compile_manifest(load_manifest(path))
    assert [str(p) for p in err.value.problems] == [
        f'{path}:6:16: targets.k.quotas[0].user: an empty user names no entity; "<default>" is the default entity']
