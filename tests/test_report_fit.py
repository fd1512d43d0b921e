"""Broker-fit scoring: declared requirements against the capability matrix."""

from __future__ import annotations

import textwrap
from pathlib import Path

from brokerform.manifest.loader import load_manifest
from brokerform.report.builder import ReportOptions, build_report
from brokerform.report.capabilities import load_matrix, matrix_rows
from brokerform.report.fit import score_broker, score_channel

TARGETS = """
targets:
  rmq: {type: rabbitmq, url: "http://127.0.0.1:15672"}
  kfk: {type: kafka, bootstrap_servers: "127.0.0.1:9092"}
  sb: {type: azure-servicebus, subscription_id: s, resource_group: g, namespace: ns-orders}
  sqs: {type: aws, region: eu-west-1}
"""


def load_channel(tmp_path: Path, channel_yaml: str):
    path = tmp_path / "manifest.yaml"
    path.write_text(TARGETS + "channels:\n" + textwrap.indent(textwrap.dedent(channel_yaml), "  "))
    return load_manifest(path)


def checks(score) -> dict[str, str]:
    return {c.dimension: c.status for c in score.checks}


def test_exactly_once_on_rabbitmq_is_a_misfit_unless_consumers_are_idempotent(tmp_path):
    loaded = load_channel(tmp_path, """
    pay:
      target: rmq
      pattern: point-to-point
      requirements: {delivery: exactly-once}
    """)
    matrix = load_matrix()
    channel = loaded.manifest.channels["pay"]
    assert checks(score_broker(matrix, "rabbitmq", channel))["delivery"] == "misfit"
    channel.requirements.idempotent_consumers = True
    assert checks(score_broker(matrix, "rabbitmq", channel))["delivery"] == "partial"
    assert checks(score_broker(matrix, "kafka", channel))["delivery"] == "fits"


def test_replay_on_service_bus_is_a_misfit_and_kafka_is_the_better_alternative(tmp_path):
    loaded = load_channel(tmp_path, """
    clicks:
      target: sb
      pattern: pubsub
      subscriptions: {a: {consumers: [x]}}
      requirements: {replay: true, retention: 30d, ordering: per-key, throughput: 5000}
    """)
    fit = score_channel(load_matrix(), "clicks", loaded.manifest.channels["clicks"], "azure-servicebus")
    assert fit.verdict == "misfit"
    assert fit.chosen.broker == "azure-servicebus"
    assert checks(fit.chosen) == {
        "pattern": "fits", "ordering": "fits", "replay": "misfit", "retention": "partial", "throughput": "partial",
    }
    assert fit.alternatives[0] == "Apache Kafka"
    assert [s.broker for s in fit.scores][:2] == ["azure-servicebus", "kafka"]


def test_sqs_retention_above_fourteen_days_is_a_misfit(tmp_path):
    loaded = load_channel(tmp_path, """
    audit:
      target: sqs
      pattern: point-to-point
      requirements: {retention: 15d}
    """)
    score = score_broker(load_matrix(), "aws", loaded.manifest.channels["audit"])
    assert checks(score)["retention"] == "misfit"
    assert score.checks[1].detail == "at most 2w"


def test_message_size_above_default_is_partial_and_above_limit_is_misfit(tmp_path):
    loaded = load_channel(tmp_path, """
    docs:
      target: sb
      pattern: point-to-point
      requirements: {message_size: 1MiB}
    """)
    matrix = load_matrix()
    channel = loaded.manifest.channels["docs"]
    assert checks(score_broker(matrix, "azure-servicebus", channel))["message size"] == "partial"
    assert checks(score_broker(matrix, "aws", channel))["message size"] == "misfit"
    assert checks(score_broker(matrix, "rabbitmq", channel))["message size"] == "fits"


def test_throughput_and_latency_thresholds(tmp_path):
    loaded = load_channel(tmp_path, """
    fast:
      target: rmq
      pattern: point-to-point
      requirements: {throughput: 30000, latency: 50ms}
    """)
    matrix = load_matrix()
    channel = loaded.manifest.channels["fast"]
    assert checks(score_broker(matrix, "rabbitmq", channel)) == {"pattern": "fits", "throughput": "partial", "latency": "fits"}
    assert checks(score_broker(matrix, "kafka", channel))["latency"] == "partial"
    channel.requirements.throughput = 60000
    channel.requirements.latency = 5
    assert checks(score_broker(matrix, "rabbitmq", channel))["throughput"] == "misfit"
    assert checks(score_broker(matrix, "kafka", channel))["latency"] == "misfit"


def test_score_counts_two_points_per_fit_and_one_per_partial(tmp_path):
    loaded = load_channel(tmp_path, """
    rr:
      target: kfk
      pattern: request-reply
      reply: {ttl: 30s}
      requirements: {delivery: at-least-once, ordering: global}
    """)
    score = score_broker(load_matrix(), "kafka", loaded.manifest.channels["rr"])
    assert checks(score) == {"pattern": "misfit", "delivery": "fits", "ordering": "partial"}
    assert (score.score, score.max_score, score.misfits, score.partials) == (3, 6, 1, 1)


def test_a_misfitting_channel_becomes_a_located_finding_with_alternatives(tmp_path):
    loaded = load_channel(tmp_path, """
    rr:
      target: kfk
      pattern: request-reply
      reply: {ttl: 30s}
      requirements: {delivery: at-least-once}
    """)
    report = build_report(loaded, ReportOptions(history=False, lint=False, compiled=False))
    fit_findings = [f for f in report.findings if f.category == "broker-fit"]
    assert len(fit_findings) == 1
    finding = fit_findings[0]
    assert finding.severity == "warning"
    assert finding.subject == "channel rr"
    assert finding.message == "Apache Kafka does not fit: pattern request-reply: no reply queues or correlation in the broker"
    assert finding.location.endswith("manifest.yaml:10:13")
    assert finding.suggestion == "better-fitting alternatives: Azure Service Bus, RabbitMQ, AWS SQS/SNS"


def test_every_matrix_value_cites_a_source():
    matrix = load_matrix()
    missing = []
    for broker, caps in matrix["brokers"].items():
        for section in ("framework", "patterns", "delivery", "ordering"):
            for name, entry in caps[section].items():
                if not entry.get("source"):
                    missing.append(f"{broker}.{section}.{name}")
        for section in ("replay", "retention", "max_message_size", "throughput", "latency_ms", "posture"):
            if not caps[section].get("source"):
                missing.append(f"{broker}.{section}")
    assert missing == []
    assert [r["dimension"] for r in matrix_rows(matrix)] == ["patterns", "scale", "latency", "features", "management"]
    assert [c["value"] for c in matrix_rows(matrix)[1]["cells"]] == ["Medium", "Very High", "High", "Very High"]
