"""Moving a channel to another broker is a one-line change of its `target`."""

from __future__ import annotations

import pytest

from brokerform.compile import compile_manifest
from brokerform.manifest.loader import load_manifest

TARGETS = """\
targets:
  rmq: {type: rabbitmq, url: "http://127.0.0.1:15672"}
  kafka: {type: kafka, bootstrap_servers: "127.0.0.1:19092"}
  sb: {type: azure-servicebus, subscription_id: "0", resource_group: rg, namespace: ns-orders}
  aws: {type: aws, region: us-east-1}
channels:
  invoices:
    target: TARGET
    pattern: point-to-point
    ttl: 1d
    dead_letter: {max_deliveries: 5}
    contract: {version: 1.0.0, required_properties: [message-id, timestamp]}
    requirements: {delivery: at-least-once, throughput: 50}
    monitoring: {max_depth: 1000}
"""
EXPECTED_KINDS = {"rmq": "queue", "kafka": "topic", "sb": "queue", "aws": "queue"}


@pytest.mark.parametrize("target", sorted(EXPECTED_KINDS))
def test_the_same_channel_compiles_on_every_broker_by_changing_only_its_target(tmp_path, target):
    path = tmp_path / "m.yaml"
    path.write_text(TARGETS.replace("TARGET", target))
    resources = compile_manifest(load_manifest(path))[target].resources
    names = {a.name for a in resources if a.kind == EXPECTED_KINDS[target]}
    assert any("invoices" in name for name in names), names
    assert all(r.channel in (None, "invoices") for r in resources.values())
