"""One manifest, four brokers: examples/multi-broker-shop applies to RabbitMQ, Kafka and moto
(real servers from scripts/services) and to the Azure ARM contract server, then plans clean.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from support import servicebus_harness as harness
from support.arm_servicebus import ArmServiceBusServer

from brokerform.cli import main

pytestmark = [pytest.mark.rabbitmq, pytest.mark.kafka, pytest.mark.moto]
SHOP = Path(__file__).resolve().parents[1] / "examples" / "multi-broker-shop"


def cli(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def environment_name(tmp_path, service_env, monkeypatch):
    """A copy of the example with a fresh environment overlay, so names never collide between runs."""
    envs = {name: service_env(name) for name in ("rabbitmq", "kafka", "moto")}
    for env in envs.values():
        for key, value in env.items():
            monkeypatch.setenv(key, value)
    name = "t" + uuid.uuid4().hex[:8]
    shutil.copytree(SHOP, tmp_path / "shop")
    shutil.copy(SHOP / "environments" / "dev.yaml", tmp_path / "shop" / "environments" / f"{name}.yaml")
    yield name
    rabbit = envs["rabbitmq"]
    httpx.delete(f"{rabbit['RABBITMQ_URL']}/api/vhosts/shop-{name}",
                 auth=(rabbit["RABBITMQ_USERNAME"], rabbit["RABBITMQ_PASSWORD"]), timeout=30)
    _delete_kafka_topics(envs["kafka"], f"shop.{name}.")


def _delete_kafka_topics(env: dict[str, str], prefix: str) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"], "security.protocol": "SASL_PLAINTEXT",
                         "sasl.mechanism": "PLAIN", "sasl.username": env["KAFKA_SASL_USERNAME"],
                         "sasl.password": env["KAFKA_SASL_PASSWORD"]})
    topics = [t for t in admin.list_topics(timeout=30).topics if t.startswith(prefix)]
    if topics:
        for future in admin.delete_topics(topics, operation_timeout=30).values():
            future.result()


def test_multi_broker_shop_applies_to_four_brokers_and_replans_with_no_changes(tmp_path, environment_name, monkeypatch):
    with ArmServiceBusServer() as server:
        azure = harness.start(monkeypatch, server)
        try:
            azure.namespace = f"{azure.namespace}-{environment_name}"
            azure.create_namespace()
            manifest = tmp_path / "shop"
            code, output = cli("apply", manifest, "--env", environment_name, "--auto-approve")
            assert code == 0, output
            for target in ("shop-rabbit", "shop-kafka", "shop-servicebus", "shop-aws"):
                assert f"{target}: " in output and "0 failed, 0 skipped" in output.split(f"{target}: ")[1].splitlines()[0]
            code, output = cli("plan", manifest, "--env", environment_name, "--detailed-exitcode")
            assert code == 0, output
            assert output.count("No changes. Live state matches the manifest.") == 4
            code, output = cli("drift", manifest, "--env", environment_name, "--format", "text")
            assert (code, sorted(output.splitlines())) == (0, [
                "shop-aws: in sync", "shop-kafka: in sync", "shop-rabbit: in sync", "shop-servicebus: in sync"])
        finally:
            harness.stop()
