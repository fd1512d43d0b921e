"""Capacity sizing: storage, consumers and partitions with the formula shown."""

from __future__ import annotations

import textwrap

from brokerform.manifest.loader import load_manifest
from brokerform.report.capabilities import load_matrix
from brokerform.report.sizing import human_bytes, size_channel

TARGETS = """
targets:
  rmq: {type: rabbitmq, url: "http://127.0.0.1:15672"}
  kfk: {type: kafka, bootstrap_servers: "127.0.0.1:9092"}
  sqs: {type: aws}
"""


def channel(tmp_path, text: str, name: str):
    path = tmp_path / "manifest.yaml"
    path.write_text(TARGETS + "channels:\n" + textwrap.indent(textwrap.dedent(text), "  "))
    return load_manifest(path).manifest.channels[name]


def test_storage_is_throughput_times_size_times_retention_times_subscriptions(tmp_path):
    ch = channel(tmp_path, """
    orders:
      target: rmq
      pattern: pubsub
      ttl: 7d
      subscriptions: {a: {}, b: {}, c: {}}
      requirements: {throughput: 200, message_size: 2KiB}
    """, "orders")
    row, findings = size_channel("orders", ch, "rabbitmq", load_matrix())
    assert row.storage_bytes == 200 * 2048 * 7 * 86_400 * 3
    assert row.storage == "692.1 GiB"
    assert row.storage_formula == "200 msg/s × 2KiB × 1w × 3 (3 subscriptions) = 692.1 GiB"
    assert row.retention == "1w (ttl)"
    assert row.notes == ["worst case: consumers stopped for the whole retention"]
    assert findings == []


def test_kafka_storage_counts_replicas_and_uses_the_default_retention(tmp_path):
    ch = channel(tmp_path, """
    clicks:
      target: kfk
      pattern: competing-consumers
      consumer_group: g
      replication_factor: 3
      requirements: {throughput: 1000, message_size: 1KiB}
    """, "clicks")
    row, _ = size_channel("clicks", ch, "kafka", load_matrix())
    assert row.storage_bytes == 1000 * 1024 * 7 * 86_400 * 3
    assert row.retention == "1w (kafka default)"
    assert row.storage_formula.endswith("× 3 (3 replica(s)) = 1.7 TiB")


def test_consumers_follow_littles_law_and_partitions_cover_them(tmp_path):
    ch = channel(tmp_path, """
    clicks:
      target: kfk
      pattern: competing-consumers
      consumer_group: g
      partitions: 6
      requirements: {throughput: 20000, processing_time: 2ms, consumers: 6}
    """, "clicks")
    row, findings = size_channel("clicks", ch, "kafka", load_matrix())
    assert row.consumers == 40
    assert row.consumers_formula == "⌈20000 msg/s × 2ms⌉ = 40"
    assert row.partitions == 40
    assert row.partitions_formula == "max(⌈20000 / 5,000⌉, consumers 40) = 40"
    assert [f.message for f in findings] == [
        "6 consumer(s) declared, 40 needed to keep up with 20000 msg/s at 2ms per message",
        "6 partition(s) declared, 40 suggested; consumers beyond the partition count stay idle",
    ]


def test_partitions_from_rate_alone_when_processing_time_is_unknown(tmp_path):
    ch = channel(tmp_path, """
    clicks:
      target: kfk
      pattern: competing-consumers
      consumer_group: g
      requirements: {throughput: 12000}
    """, "clicks")
    row, findings = size_channel("clicks", ch, "kafka", load_matrix())
    assert (row.consumers, row.partitions) == (None, 3)
    assert row.consumers_formula == "needs requirements.processing_time"
    assert row.storage == "n/a" and row.storage_formula == "needs message_size"
    assert findings == []


def test_sizing_without_requirements_says_what_is_missing(tmp_path):
    ch = channel(tmp_path, """
    jobs:
      target: rmq
      pattern: point-to-point
    """, "jobs")
    row, _ = size_channel("jobs", ch, "rabbitmq", load_matrix())
    assert row.storage_formula == "needs throughput, message_size, retention"
    assert (row.throughput, row.message_size, row.retention) == ("n/a", "n/a", "n/a")


def test_contract_max_size_stands_in_for_a_missing_message_size(tmp_path):
    ch = channel(tmp_path, """
    jobs:
      target: sqs
      pattern: point-to-point
      contract: {max_message_size: 4KiB}
      requirements: {throughput: 10}
    """, "jobs")
    row, _ = size_channel("jobs", ch, "aws", load_matrix())
    assert row.storage_bytes == 10 * 4096 * 4 * 86_400
    assert row.retention == "4d (aws default)"


def test_human_bytes_uses_binary_units():
    assert [human_bytes(v) for v in (512, 2048, 3 * 1024**3, 1.5 * 1024**4)] == ["512 B", "2.0 KiB", "3.0 GiB", "1.5 TiB"]
