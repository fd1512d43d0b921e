"""Infrastructure posture: HA, DR and single points of data loss become findings."""

from __future__ import annotations

from brokerform.manifest.loader import load_manifest
from brokerform.report.builder import ReportOptions, build_report


def report_for(tmp_path, text: str):
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    return build_report(load_manifest(path), ReportOptions(history=False, lint=False, compiled=False))


def gaps(report, target: str) -> list[str]:
    posture = next(p for p in report.posture if p.target == target)
    return [f"{i.aspect}: {i.detail}" for i in posture.items if i.status == "gap"]


def test_kafka_replication_factor_one_and_missing_min_isr_are_data_loss_gaps(tmp_path):
    report = report_for(tmp_path, """
targets:
  k:
    type: kafka
    environment: prod
    bootstrap_servers: 127.0.0.1:9092
    security_protocol: SASL_SSL
    sasl: {mechanism: SCRAM-SHA-512, username: reporter, password: "${env:KAFKA_PASSWORD}"}
    high_availability: {cluster_nodes: 3, geo_replication: MirrorMaker 2}
    topics:
      a: {partitions: 3, replication_factor: 1}
      b: {partitions: 3, replication_factor: 3}
      c: {partitions: 3, replication_factor: 3, configs: {min.insync.replicas: 2}}
      d: {partitions: 3, replication_factor: 2, configs: {min.insync.replicas: 2}}
""")
    assert gaps(report, "k") == [
        "data loss: topic a: replication_factor 1: one broker failure loses data",
        "data loss: topic b: min.insync.replicas default (1): an acknowledged write can live on one replica only",
        "high availability: topic d: replication_factor 2: writes with acks=all stop when a broker fails",
        "high availability: topic d: min.insync.replicas 2 >= replication_factor 2: any broker failure blocks writes",
    ]
    rf1 = next(f for f in report.findings if "topic a" in f.message)
    assert rf1.severity == "error"  # prod
    assert rf1.location.endswith("manifest.yaml:11:10")


def test_rabbitmq_classic_queues_small_clusters_and_missing_dr_are_gaps(tmp_path):
    report = report_for(tmp_path, """
targets:
  r:
    type: rabbitmq
    url: http://127.0.0.1:15672
    tls: {enabled: true}
    high_availability: {cluster_nodes: 1}
    queues:
      jobs: {}
      safe: {type: quorum}
""")
    assert gaps(report, "r") == [
        "disaster recovery: no geo-replication/mirroring declared: a regional outage loses the topology and data",
        "high availability: cluster_nodes = 1: quorum queues need 3+ nodes to survive a node loss",
        "data loss: queue jobs is a classic queue: not replicated, one node failure loses its messages",
    ]


def test_vhost_default_quorum_makes_channel_queues_replicated(tmp_path):
    report = report_for(tmp_path, """
targets:
  r:
    type: rabbitmq
    url: http://127.0.0.1:15672
    vhost: {default_queue_type: quorum}
channels:
  jobs: {target: r, pattern: point-to-point, durable: false}
""")
    assert gaps(report, "r") == [
        "high availability: no high_availability declared",
        "disaster recovery: no geo-replication/mirroring declared: a regional outage loses the topology and data",
        "security: no TLS: credentials and messages travel in plaintext",
        "high availability: cluster_nodes = not declared: quorum queues need 3+ nodes to survive a node loss",
        "data loss: channel jobs is not durable: a broker restart loses its messages",
    ]


def test_service_bus_without_zone_redundancy_is_a_gap_and_premium_with_it_is_ok(tmp_path):
    report = report_for(tmp_path, """
targets:
  std:
    type: azure-servicebus
    subscription_id: s
    resource_group: g
    namespace: sb-standard
  prem:
    type: azure-servicebus
    subscription_id: s
    resource_group: g
    namespace: sb-premium
    namespace_settings: {sku: Premium, zone_redundant: true}
    high_availability: {geo_replication: paired region}
""")
    assert gaps(report, "std")[-1] == "high availability: namespace zone redundancy not declared: a zone outage makes it unavailable"
    assert gaps(report, "prem") == []
