"""Compile step of the RabbitMQ provider: channel mapping and located errors (no broker needed)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from brokerform.compile import compile_manifest
from brokerform.errors import ManifestError
from brokerform.manifest.loader import load_manifest
from brokerform.providers.rabbitmq.compile import BUILTIN, binding_name
from brokerform.resources import Address

HEADER = """\
brokerform: 1
targets:
  rmq:
    type: rabbitmq
    url: http://127.0.0.1:15672
    scope: {vhost: shop}
"""


def compile_yaml(tmp_path: Path, body: str) -> dict[tuple[str, str], object]:
    path = tmp_path / "manifest.yaml"
    path.write_text(HEADER + (body if isinstance(body, Native) else textwrap.dedent(body)))
    desired = compile_manifest(load_manifest(path))["rmq"].resources
    return {(a.kind, a.name): r for a, r in desired.items()}


class Native(str):
    """Text already indented under the target."""


def native(body: str) -> Native:
    """Native declarations go under the target (indented), channels at the top level."""
    return Native(textwrap.indent(textwrap.dedent(body).lstrip("\n"), "    "))


def compile_error(tmp_path: Path, body: str) -> str:
    with pytest.raises(ManifestError) as info:
        compile_yaml(tmp_path, body)
    return str(info.value)


def test_pubsub_compiles_to_topic_exchange_and_one_bound_queue_per_subscription(tmp_path):
    res = compile_yaml(tmp_path, """
    channels:
      orders:
        target: rmq
        pattern: pubsub
        subscriptions:
          billing: {filter: {routing_key: "order.*"}}
          audit: {}
    """)
    assert res[("exchange", "orders")].properties["type"] == "topic"
    assert set(res) == {
        ("vhost", "shop"), ("exchange", "orders"), ("queue", "orders.billing"), ("queue", "orders.audit"),
        ("binding", "orders -> queue:orders.billing [order.*]"), ("binding", "orders -> queue:orders.audit [#]"),
    }
    binding = res[("binding", "orders -> queue:orders.billing [order.*]")]
    assert [d.name for d in binding.depends_on] == ["shop", "orders", "orders.billing"]
    assert binding.source == ("channels", "orders", "subscriptions", "billing")
    assert res[("queue", "orders.billing")].properties == {
        "type": "quorum", "durable": True, "auto_delete": False, "arguments": {}}


def test_headers_filters_compile_to_a_headers_exchange_with_x_match_all(tmp_path):
    res = compile_yaml(tmp_path, """
    channels:
      invoices:
        target: rmq
        pattern: pubsub
        subscriptions:
          eu: {filter: {headers: {region: eu}}}
    """)
    assert res[("exchange", "invoices")].properties["type"] == "headers"
    [binding] = [r for (k, _), r in res.items() if k == "binding"]
    assert binding.properties["arguments"] == {"x-match": "all", "region": "eu"}
    assert binding.address.name == binding_name("invoices", "queue", "invoices.eu", "", {"x-match": "all", "region": "eu"})


def test_point_to_point_is_a_queue_behind_a_direct_exchange_keyed_by_its_name(tmp_path):
    res = compile_yaml(tmp_path, """
    channels:
      emails:
        target: rmq
        pattern: point-to-point
        ttl: 1h
        max_length: {messages: 1000, overflow: reject-publish}
        ordering: {mode: single-active-consumer}
    """)
    assert res[("exchange", "emails")].properties["type"] == "direct"
    assert ("binding", "emails -> queue:emails [emails]") in res
    assert res[("queue", "emails")].properties["arguments"] == {
        "x-max-length": 1000, "x-message-ttl": 3_600_000, "x-overflow": "reject-publish",
        "x-single-active-consumer": True}


def test_request_reply_adds_a_reply_queue_whose_ttl_is_the_reply_ttl(tmp_path):
    res = compile_yaml(tmp_path, """
    channels:
      quote:
        target: rmq
        pattern: request-reply
        reply: {ttl: 30s, queue: quote.replies}
    """)
    assert res[("queue", "quote.replies")].properties["arguments"] == {"x-message-ttl": 30_000}
    assert ("queue", "quote") in res and ("binding", "quote -> queue:quote [quote]") in res


def test_dead_letter_compiles_to_dlx_dlq_and_a_policy_matching_exactly_the_channel_queues(tmp_path):
    res = compile_yaml(tmp_path, """
    channels:
      orders:
        target: rmq
        pattern: pubsub
        subscriptions: {billing: {}, "ship.ping": {}}
        dead_letter: {max_deliveries: 5, ttl: 14d}
    """)
    assert res[("exchange", "orders.dlx")].properties["type"] == "fanout"
    assert res[("queue", "orders.dlq")].properties["arguments"] == {"x-message-ttl": 14 * 86_400_000}
    assert ("binding", "orders.dlx -> queue:orders.dlq []") in res
    policy = res[("policy", "orders.dead-letter")].properties
    assert policy == {
        "pattern": r"^(orders\.billing|orders\.ship\.ping)$", "apply-to": "queues", "priority": 10,
        "definition": {"dead-letter-exchange": "orders.dlx", "delivery-limit": 5},
    }
    work = res[("queue", "orders.billing")]
    assert {d.name for d in work.depends_on} == {"shop", "orders.dlx", "orders.dlq"}
    assert "x-dead-letter-exchange" not in work.properties["arguments"]  # the policy holds it


def test_retry_tiers_are_delay_queues_that_dead_letter_back_through_the_default_exchange(tmp_path):
    res = compile_yaml(tmp_path, """
    channels:
      jobs:
        target: rmq
        pattern: competing-consumers
        retry: {attempts: 4, initial_delay: 10s, max_delay: 30s}
        dead_letter: {target: jobs.failed}
    """)
    tiers = sorted(name for kind, name in res if kind == "queue" and ".retry." in name)
    assert tiers == ["jobs.retry.10s", "jobs.retry.20s", "jobs.retry.30s"]  # 10s, 20s, 30s (capped), 30s
    assert res[("queue", "jobs.retry.20s")].properties["arguments"] == {
        "x-dead-letter-exchange": "", "x-message-ttl": 20_000}
    assert res[("exchange", "jobs.retry.20s")].properties["type"] == "fanout"
    assert ("binding", "jobs.retry.20s -> queue:jobs.retry.20s []") in res
    assert ("queue", "jobs.failed") in res and ("queue", "jobs.dlq") not in res


def test_priority_forces_classic_queues_and_max_deliveries_then_is_a_located_error(tmp_path):
    message = compile_error(tmp_path, """
    channels:
      alerts:
        target: rmq
        pattern: point-to-point
        priority: 5
        dead_letter:
          max_deliveries: 3
    """)
    assert "manifest.yaml:14:" in message
    assert "channels.alerts.dead_letter.max_deliveries: max_deliveries needs quorum queues" in message


def test_priority_and_non_durable_channels_compile_to_classic_queues(tmp_path):
    res = compile_yaml(tmp_path, """
    channels:
      alerts: {target: rmq, pattern: point-to-point, priority: 5}
      metrics: {target: rmq, pattern: point-to-point, durable: false}
    """)
    assert res[("queue", "alerts")].properties == {
        "type": "classic", "durable": True, "auto_delete": False, "arguments": {"x-max-priority": 5}}
    assert res[("queue", "metrics")].properties["type"] == "classic"
    assert res[("queue", "metrics")].properties["durable"] is False


def test_vhost_default_queue_type_classic_is_honoured_and_everything_depends_on_the_vhost(tmp_path):
    path = tmp_path / "manifest.yaml"
    path.write_text(HEADER + "    vhost: {default_queue_type: classic, max_queues: 10}\n" + textwrap.dedent("""
    channels:
      emails: {target: rmq, pattern: point-to-point}
    """))
    res = {(a.kind, a.name): r for a, r in compile_manifest(load_manifest(path))["rmq"].resources.items()}
    assert res[("queue", "emails")].properties["type"] == "classic"
    assert res[("vhost", "shop")].properties == {"default_queue_type": "classic", "limits": {"max-queues": 10}}
    assert Address("rmq", "vhost", "", "shop") in res[("queue", "emails")].depends_on


def test_quorum_channel_with_reject_publish_dlx_is_a_located_error(tmp_path):
    message = compile_error(tmp_path, """
    channels:
      emails:
        target: rmq
        pattern: point-to-point
        max_length: {messages: 10, overflow: reject-publish-dlx}
    """)
    assert "channels.emails.max_length.overflow: quorum queues support overflow drop-head or reject-publish only" in message


def test_native_quorum_queue_with_max_priority_is_a_located_error(tmp_path):
    message = compile_error(tmp_path, native("""
      queues:
        q1:
          type: quorum
          max_priority: 10
    """))
    assert "manifest.yaml:10:" in message and "targets.rmq.queues.q1.max_priority" in message


def test_native_queue_typed_fields_become_x_arguments(tmp_path):
    res = compile_yaml(tmp_path, native("""
      exchanges:
        dlx: {type: fanout}
      queues:
        work:
          type: classic
          message_ttl: 5m
          expires: 1h
          max_length_bytes: 1MiB
          dead_letter_exchange: dlx
          dead_letter_routing_key: dead
          arguments: {x-queue-mode: lazy}
        events:
          type: stream
          max_age: 7D
    """))
    assert res[("queue", "work")].properties["arguments"] == {
        "x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": "dead", "x-expires": 3_600_000,
        "x-max-length-bytes": 1_048_576, "x-message-ttl": 300_000, "x-queue-mode": "lazy"}
    assert [d.name for d in res[("queue", "work")].depends_on] == ["shop", "dlx"]
    assert res[("queue", "events")].properties == {
        "type": "stream", "durable": True, "auto_delete": False, "arguments": {"x-max-age": "7D"}}


def test_binding_from_an_undeclared_exchange_is_reported_with_its_location(tmp_path):
    message = compile_error(tmp_path, native("""
      queues: {q1: {}}
      bindings:
        - source: missing.exchange
          destination: q1
    """))
    assert "targets.rmq.bindings[0]: refers to exchange 'missing.exchange', which is not declared" in message
    assert "manifest.yaml:9:" in message


def test_bindings_to_builtin_exchanges_are_not_dangling_and_differ_by_arguments(tmp_path):
    res = compile_yaml(tmp_path, native("""
      queues: {q1: {}}
      bindings:
        - {source: amq.headers, destination: q1, arguments: {x-match: all, kind: a}}
        - {source: amq.headers, destination: q1, arguments: {x-match: all, kind: b}}
    """))
    assert len([k for k, _ in res if k == "binding"]) == 2
    assert BUILTIN(Address("rmq", "exchange", "shop", "amq.topic"))
    assert BUILTIN(Address("rmq", "exchange", "shop", ""))
    assert not BUILTIN(Address("rmq", "exchange", "shop", "orders"))


def test_users_keep_only_the_secret_reference_and_permissions_depend_on_them(tmp_path):
    res = compile_yaml(tmp_path, native("""
      users:
        svc: {password: "${env:SVC_PASSWORD:-dev}", tags: [monitoring]}
      permissions:
        svc: {configure: "^$", write: "^orders$", read: "^orders\\\\..*$"}
      topic_permissions:
        svc: [{exchange: amq.topic, write: "^order\\\\."}]
    """))
    user = res[("user", "svc")]
    assert user.address.scope == "" and user.properties == {"tags": ["monitoring"], "password": "${env:SVC_PASSWORD:-dev}"}
    assert Address("rmq", "user", "", "svc") in res[("permission", "svc")].depends_on
    assert res[("topic_permission", "svc @ amq.topic")].properties == {
        "user": "svc", "exchange": "amq.topic", "write": "^order\\.", "read": "^$"}


def test_invalid_permission_regex_is_a_located_error(tmp_path):
    message = compile_error(tmp_path, native("""
      permissions:
        svc: {configure: "(", write: "^$", read: "^$"}
    """))
    assert "targets.rmq.permissions.svc.configure: not a valid regular expression" in message


def test_the_orders_example_compiles_to_the_documented_topology():
    from conftest import EXAMPLES

    loaded = load_manifest(EXAMPLES / "rabbitmq-orders", variables={"vhost": "orders-ci"})
    resources = compile_manifest(loaded)["orders-rmq"].resources
    kinds: dict[str, int] = {}
    for address in resources:
        kinds[address.kind] = kinds.get(address.kind, 0) + 1
        assert address.scope in ("", "orders-ci")
    assert kinds == {"vhost": 1, "exchange": 6, "queue": 10, "binding": 9, "policy": 2, "user": 2,
                     "permission": 2, "topic_permission": 1}


def test_queue_and_exchange_names_are_one_to_255_bytes(tmp_path):
    long_name = "ü" * 128  # 256 bytes in UTF-8, 128 characters
    message = compile_error(tmp_path, native(f"""
        exchanges:
          "{long_name}": {{type: topic}}
        queues:
          "": {{}}
          "{"q" * 255}": {{}}
        """))
    path = tmp_path / "manifest.yaml"
    assert message.splitlines() == [
        f'{path}:8:7: targets.rmq.exchanges.{long_name}: RabbitMQ exchange names are 1 to 255 bytes (UTF-8); '
        "this one has 256",
        f'{path}:10:7: targets.rmq.queues."": RabbitMQ queue names are 1 to 255 bytes (UTF-8); this one has 0',
    ]


def test_typed_fields_that_contradict_raw_arguments_are_each_reported_at_their_line(tmp_path):
    message = compile_error(tmp_path, native("""
      queues:
        work:
          max_length: 10
          message_ttl: 5m
          arguments: {x-max-length: 20, x-message-ttl: 60000, x-queue-type: quorum}
    """))
    manifest = tmp_path / "manifest.yaml"
    assert message.splitlines() == [
        f"{manifest}:9:21: targets.rmq.queues.work.max_length: max_length and arguments.x-max-length are both "
        "given with different values",
        f"{manifest}:10:22: targets.rmq.queues.work.message_ttl: message_ttl and arguments.x-message-ttl are both "
        "given with different values",
        f"{manifest}:11:20: targets.rmq.queues.work.arguments: x-queue-type 'quorum' contradicts type 'classic'; "
        "use type",
    ]


def test_known_queue_arguments_and_policy_keys_of_the_wrong_type_fail_validate_not_apply(tmp_path):
    """RabbitMQ refuses them only when the change is applied, after the rest of the change set went in."""
    message = compile_error(tmp_path, native("""
      queues:
        q:
          arguments: {x-overflow: drop-tail, x-message-ttl: 1d, x-single-active-consumer: "yes", x-custom: anything}
      policies:
        limits: {pattern: "^q$", definition: {max-length: -1, message-ttl: 60000, ha-mode: all}}
    """))
    manifest = tmp_path / "manifest.yaml"
    assert message.splitlines() == [
        f"{manifest}:9:33: targets.rmq.queues.q.arguments.x-overflow: RabbitMQ expects one of drop-head, "
        "reject-publish, reject-publish-dlx for x-overflow, got 'drop-tail'",
        f"{manifest}:9:59: targets.rmq.queues.q.arguments.x-message-ttl: RabbitMQ expects an integer >= 0 for "
        "x-message-ttl, got '1d' (milliseconds; or write message_ttl: 1d instead)",
        f"{manifest}:9:89: targets.rmq.queues.q.arguments.x-single-active-consumer: RabbitMQ expects true or false "
        "for x-single-active-consumer, got 'yes'",
        f"{manifest}:11:57: targets.rmq.policies.limits.definition.max-length: RabbitMQ expects an integer >= 0 for "
        "max-length, got -1",
    ]


def test_exchange_types_and_queue_properties_rabbitmq_refuses_are_validate_errors(tmp_path):
    message = compile_error(tmp_path, native("""
      exchanges:
        delayed: {type: x-delayed-message, arguments: {x-delayed-type: direct}}
        events: {type: topik}
      queues:
        work: {type: quorum, auto_delete: true}
    """))
    manifest = tmp_path / "manifest.yaml"
    assert message.splitlines() == [
        f"{manifest}:9:22: targets.rmq.exchanges.events.type: expected direct, fanout, topic, headers or a plugin's "
        "x-... type, got 'topik'; did you mean 'topic'?",
        f"{manifest}:11:13: targets.rmq.queues.work: quorum queues cannot be auto-delete (RabbitMQ refuses the property)",
    ]


def test_max_queues_without_a_slot_for_the_apply_lock_queue_is_a_located_error(tmp_path):
    message = compile_error(tmp_path, native("""
      vhost: {max_queues: 2}
      queues:
        q1: {}
        q2: {}
    """))
    assert ("manifest.yaml:7:25: targets.rmq.vhost.max_queues: max_queues 2 leaves no room: 2 queue(s) are declared "
            "and brokerform's apply lock is one more queue (brokerform.lock); set at least 3") in message
    res = compile_yaml(tmp_path, native("""
      vhost: {max_queues: 3}
      queues:
        q1: {}
        q2: {}
    """))
    assert res[("vhost", "shop")].properties["limits"] == {"max-queues": 3}


def test_nan_infinity_and_null_arguments_are_located_errors_not_apply_failures(tmp_path):
    message = compile_error(tmp_path, native("""
      queues:
        q1:
          arguments: {x-custom: .nan, x-limit: .inf, x-empty: null}
      exchanges:
        e1:
          arguments: {x-weight: -.inf}
      policies:
        p1:
          pattern: "^q"
          definition: {max-length: 5, x-note: null}
    """))
    assert "targets.rmq.queues.q1.arguments.x-custom: nan is not a JSON number; RabbitMQ cannot store it" in message
    assert "targets.rmq.queues.q1.arguments.x-limit: inf is not a JSON number" in message
    assert ("targets.rmq.queues.q1.arguments.x-empty: null is not allowed here (RabbitMQ refuses it); "
            "remove the key or give a value") in message
    assert "targets.rmq.exchanges.e1.arguments.x-weight: -inf is not a JSON number" in message
    assert "targets.rmq.policies.p1.definition.x-note: null is not allowed here" in message
    assert "manifest.yaml:9:31: targets.rmq.queues.q1.arguments.x-custom" in message
