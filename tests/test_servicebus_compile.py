"""Service Bus compile: channels and native declarations -> ARM resources, tier limits as located errors."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from brokerform.compile import compile_manifest
from brokerform.errors import ManifestError
from brokerform.manifest.loader import load_manifest
from brokerform.providers.servicebus.durations import TIMESPAN_MAX_ISO, TIMESPAN_MAX_MS, iso_to_ms, ms_to_iso
from brokerform.resources import Address

HEAD = """brokerform: 1
targets:
  sb:
    type: azure-servicebus
    subscription_id: 00000000-0000-0000-0000-000000000000
    resource_group: rg
    namespace: orders-ns
"""


def compiled(tmp_path: Path, body: str) -> dict[Address, object]:
    path = tmp_path / "manifest.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return compile_manifest(load_manifest(path))["sb"].resources


def problems(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "manifest.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        compile_manifest(load_manifest(path))
    return [str(p).replace(str(path), "M") for p in caught.value.problems]


def test_a_pubsub_channel_becomes_a_topic_with_subscriptions_and_filter_rules(tmp_path):
    resources = compiled(tmp_path, """channels:
  orders:
    target: sb
    pattern: pubsub
    ttl: 2d
    ack_timeout: 90s
    duplicate_detection: 5m
    ordering: {mode: sessions}
    dead_letter: {max_deliveries: 4}
    subscriptions:
      billing: {filter: {sql: "total > 100"}}
      eu: {filter: {headers: {region: eu, priority: 1}}}
      all: {}
""")
    topic = resources[Address("sb", "topic", "", "orders")]
    assert topic.properties == {"defaultMessageTimeToLive": 172_800_000, "requiresDuplicateDetection": True,
                                "duplicateDetectionHistoryTimeWindow": 300_000, "supportOrdering": True}
    billing = resources[Address("sb", "subscription", "orders", "billing")]
    assert billing.properties == {"lockDuration": 90_000, "maxDeliveryCount": 4, "deadLetteringOnMessageExpiration": True,
                                  "requiresSession": True, "keepDefaultRule": False}
    assert billing.depends_on == [Address("sb", "topic", "", "orders")]
    assert resources[Address("sb", "rule", "orders/billing", "filter")].properties == {
        "filterType": "SqlFilter", "sqlExpression": "total > 100"}
    assert resources[Address("sb", "rule", "orders/eu", "filter")].properties == {
        "filterType": "CorrelationFilter", "correlation": {"properties": {"region": "eu", "priority": 1}}}
    assert resources[Address("sb", "subscription", "orders", "all")].properties["keepDefaultRule"] is True
    assert resources[Address("sb", "rule", "orders/all", "$Default")].properties == {
        "filterType": "SqlFilter", "sqlExpression": "1=1"}


def test_a_point_to_point_channel_with_a_separate_dlq_forwards_dead_letters_to_it(tmp_path):
    resources = compiled(tmp_path, """    queues:
      jobs.dlq: {}
channels:
  jobs:
    target: sb
    pattern: point-to-point
    dead_letter: {max_deliveries: 3, target: jobs.dlq, on_expiry: false}
""")
    queue = resources[Address("sb", "queue", "", "jobs")]
    assert queue.properties == {"maxDeliveryCount": 3, "deadLetteringOnMessageExpiration": False,
                                "forwardDeadLetteredMessagesTo": "jobs.dlq"}
    assert Address("sb", "queue", "", "jobs.dlq") in queue.depends_on


def test_forwarding_makes_the_referrer_depend_on_its_destination(tmp_path):
    resources = compiled(tmp_path, """    queues:
      inbox: {forward_to: work}
      work: {requires_session: true}
    topics:
      events:
        subscriptions:
          tap: {forward_to: work}
""")
    work = Address("sb", "queue", "", "work")
    assert work in resources[Address("sb", "queue", "", "inbox")].depends_on
    assert work in resources[Address("sb", "subscription", "events", "tap")].depends_on


def test_tier_limits_are_located_errors(tmp_path):
    found = problems(tmp_path, """    namespace_settings: {sku: Basic}
    queues:
      big:
        lock_duration: 10m
        requires_session: true
        default_message_ttl: 30d
        max_message_size_kb: 1024
        max_size_mb: 1500
""")
    assert found == [
        "M:11:24: targets.sb.queues.big.lock_duration: lock duration must be between 5s and 5m",
        "M:12:27: targets.sb.queues.big.requires_session: the Basic tier has no sessions; use Standard or Premium",
        "M:13:30: targets.sb.queues.big.default_message_ttl: the Basic tier caps the message TTL at 14d",
        "M:14:30: targets.sb.queues.big.max_message_size_kb: messages over 256 KB need the Premium tier (this namespace is Basic)",
        "M:15:22: targets.sb.queues.big.max_size_mb: Basic entity sizes are one of 1024, 2048, 3072, 4096, 5120 MB",
    ]


def test_a_pubsub_channel_on_a_basic_namespace_is_refused_at_the_channel(tmp_path):
    found = problems(tmp_path, """    namespace_settings: {sku: Basic}
channels:
  news:
    target: sb
    pattern: pubsub
    subscriptions: {all: {}}
""")
    assert found == ["M:10:3: channels.news: the Basic tier has no topics; use Standard or Premium"]


def test_large_messages_need_premium_and_become_max_message_size_there(tmp_path):
    body = """channels:
  scans:
    target: sb
    pattern: point-to-point
    contract: {max_message_size: 4MiB}
"""
    assert problems(tmp_path, body) == [
        "M:9:3: channels.scans: messages over 256 KB need the Premium tier (this namespace is Standard)"]
    resources = compiled(tmp_path, "    namespace_settings: {sku: Premium}\n" + body)
    assert resources[Address("sb", "queue", "", "scans")].properties == {"maxMessageSizeInKilobytes": 4096}


def test_the_root_key_and_a_managed_namespace_without_location_are_refused(tmp_path):
    found = problems(tmp_path, """    namespace_settings: {manage: true}
    authorization_rules:
      RootManageSharedAccessKey: {rights: [Listen, Send, Manage]}
      ops: {rights: [Manage]}
""")
    assert found == [
        "M:8:5: targets.sb.namespace_settings: location is required when manage: true (a namespace cannot be created without it)",
        "M:10:7: targets.sb.authorization_rules.RootManageSharedAccessKey: RootManageSharedAccessKey is created with every namespace and cannot be managed",
        "M:11:21: targets.sb.authorization_rules.ops.rights: the Manage right needs Listen and Send as well",
    ]


def test_names_outside_the_scope_prefix_are_refused(tmp_path):
    assert problems(tmp_path, """    scope: {name_prefix: "pay."}
    queues:
      other.jobs: {}
""") == ["M:10:7: targets.sb.queues.\"other.jobs\": 'other.jobs' is outside this target's scope "
          "(names must start with 'pay.')"]


@pytest.mark.parametrize("text, ms", [
    ("PT1M", 60_000), ("PT01M00S", 60_000), ("P14D", 1_209_600_000), ("P2DT0.5S", 172_800_500),
    (TIMESPAN_MAX_ISO, TIMESPAN_MAX_MS), ("P10675199DT02H48M05.477539S", TIMESPAN_MAX_MS),
    (dt.timedelta(days=10675199, seconds=10085, microseconds=477581), TIMESPAN_MAX_MS),
])
def test_arm_durations_compare_as_milliseconds_and_near_max_is_max(text, ms):
    assert iso_to_ms(text) == ms


def test_milliseconds_print_as_arm_durations_with_max_exact():
    assert [ms_to_iso(v) for v in (60_000, 1_209_600_000, 172_800_500, 45_000, TIMESPAN_MAX_MS - 1)] == [
        "PT1M", "P14D", "P2DT0.5S", "PT45S", TIMESPAN_MAX_ISO]


def test_compile_does_not_import_the_azure_sdk():
    import subprocess

    code = ("import sys, brokerform.providers.servicebus.compile, brokerform.export.pulumi_azure;"
            "print(sorted(m for m in sys.modules if m.startswith(('azure', 'pulumi'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
