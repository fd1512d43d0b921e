"""The planner compares only what the manifest declares and makes unsafe changes explicit."""

from __future__ import annotations

from support.memory_provider import Broker, MemoryProvider, addr, resource

from brokerform.apply.executor import Executor, RetryPolicy
from brokerform.plan.model import Action, PlanOptions, Reason
from brokerform.plan.planner import comparable, plan_target, topological_order
from brokerform.providers.base import FieldPolicy


def plan(desired, live, options=None, **kwargs):
    broker = Broker(objects={r.address: r for r in live})
    provider = MemoryProvider("mem", broker)
    return plan_target("mem", "memory", {r.address: r for r in desired}, provider.read(), provider,
                       options or PlanOptions(), **kwargs), broker


def by_name(target_plan):
    return {c.address.name: c for c in target_plan.changes}


def test_new_resource_is_created_with_all_its_properties():
    result, _ = plan([resource("queue", "orders", {"arguments": {"x-max-length": 10}})], [])
    change = by_name(result)["orders"]
    assert change.action is Action.CREATE
    assert change.reason is Reason.NEW
    assert [(a.path, a.before, a.after) for a in change.attributes] == [("arguments.x-max-length", None, 10)]


def test_broker_defaults_and_unmanaged_server_fields_never_produce_a_diff():
    desired = resource("policy", "p", {"pattern": "^a$"})
    live = resource("policy", "p", {"pattern": "^a$", "server_id": "node-7"})
    result, _ = plan([desired, resource("queue", "q", {})], [live, resource("queue", "q", {"durable": True})])
    assert [c.action for c in result.changes] == [Action.NOOP, Action.NOOP]


def test_equal_values_in_different_spellings_are_in_sync():
    desired = resource("policy", "p", {"definition": {"message-ttl": 604800000, "ha": True}})
    live = resource("policy", "p", {"definition": {"message-ttl": "604800000", "ha": "true"}})
    result, _ = plan([desired], [live])
    assert result.changes[0].action is Action.NOOP
    assert comparable(1.0) == comparable("1") == "1"


def test_removing_a_property_from_the_manifest_returns_it_to_the_default():
    desired = resource("policy", "p", {"pattern": "^a$"})
    live = resource("policy", "p", {"pattern": "^a$", "definition": {"max-length": 5}})
    result, _ = plan([desired], [live])
    change = result.changes[0]
    assert change.action is Action.UPDATE
    assert [(a.path, a.before, a.after) for a in change.attributes] == [("definition.max-length", 5, None)]


def test_changed_immutable_argument_is_a_replace_never_a_silent_noop():
    result, _ = plan(
        [resource("queue", "q", {"arguments": {"x-max-length": 20}})],
        [resource("queue", "q", {"arguments": {"x-max-length": 10}})],
    )
    change = result.changes[0]
    assert change.action is Action.REPLACE
    assert change.reason is Reason.IMMUTABLE
    assert change.forces_replace == ["arguments.x-max-length"]
    assert change.refused == "replace needs --allow-replace"


def test_replace_recreates_the_bindings_of_the_replaced_queue():
    queue = resource("queue", "q", {"arguments": {"x-max-length": 20}})
    exchange = resource("exchange", "ex", {"type": "topic"})
    binding = resource("binding", "ex->q", {"routing_key": "#"}, deps=[queue.address, exchange.address])
    live = [resource("queue", "q", {"arguments": {"x-max-length": 10}}), resource("exchange", "ex", {"type": "topic"}),
            resource("binding", "ex->q", {"routing_key": "#"}, deps=[queue.address, exchange.address])]
    result, _ = plan([queue, exchange, binding], live, PlanOptions(allow_replace=True))
    changes = by_name(result)
    assert changes["ex"].action is Action.NOOP
    assert changes["ex->q"].action is Action.REPLACE
    assert changes["ex->q"].reason is Reason.DEPENDENCY_REPLACED
    assert changes["ex->q"].note == "re-created because mem.queue['q'] is replaced"


def replaced_queue_topology():
    exchange = resource("exchange", "ex", {"type": "topic"})
    queue = resource("queue", "q", {"arguments": {"x-max-length": 20}})
    live_queue = resource("queue", "q", {"arguments": {"x-max-length": 10}})
    by_hand = resource("binding", "ex->q audit.#", {"routing_key": "audit.#"}, deps=[exchange.address, queue.address])
    return [exchange, queue], [exchange, live_queue, by_hand]


def test_unmanaged_binding_of_a_replaced_queue_is_recreated_as_it_was_live_not_listed_as_kept():
    desired, live = replaced_queue_topology()
    result, broker = plan(desired, live, PlanOptions(allow_replace=True))
    change = by_name(result)["ex->q audit.#"]
    assert (change.action, change.reason, change.refused) == (Action.REPLACE, Reason.DEPENDENCY_REPLACED, None)
    assert change.note == "unmanaged: re-created as it is live because mem.queue['q'] is replaced"
    assert change.desired.properties == {"routing_key": "audit.#"}
    assert change.depends_on == [addr("exchange", "ex"), addr("queue", "q")]
    assert result.unmanaged == []

    provider = MemoryProvider("mem", broker)
    assert Executor(provider, 2, RetryPolicy(attempts=1, sleep=lambda s: None)).run(result).ok
    assert broker.objects[addr("binding", "ex->q audit.#")].properties == {"routing_key": "audit.#"}
    again, _ = plan(desired, list(broker.objects.values()))
    assert again.pending == [] and again.unmanaged == [addr("binding", "ex->q audit.#")]


class ServiceBusLike(MemoryProvider):
    """Topics whose partitioning is immutable; subscriptions (and their rules) die with their topic."""

    def field_policy(self, kind):
        return {"topic": FieldPolicy(immutable=("partitioned",)), "subscription": FieldPolicy(holds_data=True),
                "rule": FieldPolicy()}.get(kind, super().field_policy(kind))


def test_unmanaged_subscription_holding_messages_is_recreated_empty_only_with_allow_data_loss():
    topic = resource("topic", "t", {"partitioned": True})
    subscription = resource("subscription", "t/audit", {"max_delivery": 3}, deps=[topic.address])
    rule = resource("rule", "t/audit/filter", {"sql": "a = 1"}, deps=[subscription.address])
    live = [resource("topic", "t", {"partitioned": False}), subscription, rule]
    broker = Broker(objects={r.address: r for r in live}, messages={subscription.address: 42})
    provider = ServiceBusLike("mem", broker)
    result = plan_target("mem", "memory", {topic.address: topic}, provider.read(), provider,
                         PlanOptions(allow_replace=True))
    changes = by_name(result)
    assert [(c.address.name, c.action, c.reason) for c in result.pending] == [
        ("t", Action.REPLACE, Reason.IMMUTABLE),
        ("t/audit", Action.REPLACE, Reason.DEPENDENCY_REPLACED),
        ("t/audit/filter", Action.REPLACE, Reason.DEPENDENCY_REPLACED),
    ]
    assert (changes["t/audit"].destructive, changes["t/audit"].messages) == (True, 42)
    assert changes["t/audit"].refused == "would lose 42 message(s); needs --allow-data-loss"
    assert changes["t/audit/filter"].note == "unmanaged: re-created as it is live because mem.subscription['t/audit'] is replaced"
    assert result.unmanaged == []
    allowed = plan_target("mem", "memory", {topic.address: topic}, provider.read(), provider,
                          PlanOptions(allow_replace=True, allow_data_loss=True))
    assert allowed.refused == []


def test_prune_deletes_unmanaged_dependants_of_a_replaced_resource_once():
    desired, live = replaced_queue_topology()
    result, _ = plan(desired, live, PlanOptions(allow_replace=True, prune=True))
    assert [(c.address.name, c.action) for c in result.pending] == [("q", Action.REPLACE),
                                                                   ("ex->q audit.#", Action.DELETE)]


def test_unmanaged_acls_survive_a_topic_replace_and_stay_listed_as_kept():
    topic = resource("queue", "t", {"arguments": {"x-max-length": 2}})
    acl = resource("acl", "User:a READ t", {}, deps=[topic.address])
    result, _ = plan([topic], [resource("queue", "t", {"arguments": {"x-max-length": 1}}), acl],
                     PlanOptions(allow_replace=True))
    assert [c.address.name for c in result.pending] == ["t"]
    assert result.unmanaged == [acl.address]


def test_acls_are_not_recreated_when_their_topic_is_replaced():
    topic = resource("topic", "t", {"partitions": 3, "cleanup": "x"})
    acl = resource("acl", "User:a READ t", {}, deps=[topic.address])
    result, _ = plan([topic, acl], [resource("topic", "t", {"partitions": 3, "cleanup": "x"}), acl])
    assert by_name(result)["User:a READ t"].action is Action.NOOP


def test_partition_decrease_is_blocked_at_plan_time_with_the_reason():
    result, _ = plan([resource("topic", "t", {"partitions": 6})], [resource("topic", "t", {"partitions": 12})])
    change = result.changes[0]
    assert change.action is Action.BLOCKED
    assert change.blocked_reason == "partitions cannot decrease (12 -> 6)"
    assert result.blocked == [change]


def test_unmanaged_resources_are_listed_and_deleted_only_with_prune():
    live = [resource("queue", "keep", {}), resource("queue", "stray", {})]
    result, _ = plan([resource("queue", "keep", {})], live)
    assert result.unmanaged == [addr("queue", "stray")]
    assert result.pending == []
    pruned, _ = plan([resource("queue", "keep", {})], live, PlanOptions(prune=True))
    assert [(c.address.name, c.action, c.reason) for c in pruned.pending] == [("stray", Action.DELETE, Reason.REMOVED)]


def test_deleting_a_queue_with_messages_is_destructive_and_refused_without_allow_data_loss():
    live = [resource("queue", "full", {})]
    broker_messages = {addr("queue", "full"): 42}
    broker = Broker(objects={r.address: r for r in live}, messages=broker_messages)
    provider = MemoryProvider("mem", broker)
    result = plan_target("mem", "memory", {}, provider.read(), provider, PlanOptions(prune=True))
    change = result.changes[0]
    assert (change.action, change.destructive, change.messages) == (Action.DELETE, True, 42)
    assert change.refused == "would lose 42 message(s); needs --allow-data-loss"
    allowed = plan_target("mem", "memory", {}, provider.read(), provider, PlanOptions(prune=True, allow_data_loss=True))
    assert allowed.changes[0].refused is None


def test_deleting_an_empty_queue_is_not_destructive():
    result, _ = plan([], [resource("queue", "empty", {})], PlanOptions(prune=True))
    assert result.changes[0].destructive is False
    assert result.changes[0].refused is None


def test_protect_turns_a_destructive_change_into_a_plan_error():
    desired = resource("queue", "q", {"arguments": {"x-max-length": 2}}, protect=True)
    result, _ = plan([desired], [resource("queue", "q", {"arguments": {"x-max-length": 1}})], PlanOptions(allow_replace=True))
    change = result.changes[0]
    assert change.action is Action.BLOCKED
    assert change.reason is Reason.PROTECTED
    assert "protect: true forbids this replace" in change.blocked_reason


def test_target_level_protect_blocks_prune_deletes():
    result, _ = plan([], [resource("queue", "q", {})], PlanOptions(prune=True), target_protect=True)
    assert result.changes[0].action is Action.BLOCKED


def test_dependencies_come_first_and_order_is_stable():
    a = resource("exchange", "a")
    q = resource("queue", "q")
    b = resource("binding", "a->q", deps=[a.address, q.address])
    dlq = resource("queue", "dlq")
    work = resource("queue", "work", deps=[dlq.address])
    order = [x.name for x in topological_order({r.address: r for r in [b, work, q, a, dlq]})]
    assert order.index("a") < order.index("a->q") and order.index("q") < order.index("a->q")
    assert order.index("dlq") < order.index("work")
    assert order == [x.name for x in topological_order({r.address: r for r in [dlq, a, q, work, b]})]


def test_plan_fingerprints_change_when_live_state_changes():
    first, _ = plan([resource("queue", "q")], [resource("queue", "q", {"durable": True})])
    second, _ = plan([resource("queue", "q")], [resource("queue", "q", {"durable": False})])
    assert first.live_fingerprint != second.live_fingerprint
    assert first.desired_fingerprint == second.desired_fingerprint
