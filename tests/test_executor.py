"""The executor applies in dependency order, retries transient failures and reports exactly."""

from __future__ import annotations

import threading
import time

import pytest
from support.memory_provider import Broker, MemoryProvider, addr, resource

from brokerform.apply.executor import Executor, RetryPolicy
from brokerform.errors import ProviderError
from brokerform.plan.model import Action, PlanOptions
from brokerform.plan.planner import plan_target
from brokerform.providers.base import Capabilities

NO_SLEEP = RetryPolicy(attempts=4, sleep=lambda seconds: None)


def topology():
    exchange = resource("exchange", "orders", {"type": "topic"})
    dlq = resource("queue", "orders.dlq", {})
    queue = resource("queue", "orders.billing", {"arguments": {"x-dead-letter-exchange": "dlx"}}, deps=[dlq.address])
    binding = resource("binding", "orders->orders.billing", {"routing_key": "#"}, deps=[exchange.address, queue.address])
    return [exchange, dlq, queue, binding]


def run(broker, desired, options=None, *, bulk=False, retry=NO_SLEEP, parallelism=4):
    provider = MemoryProvider("mem", broker, bulk=bulk)
    target_plan = plan_target("mem", "memory", {r.address: r for r in desired}, provider.read(), provider,
                              options or PlanOptions())
    return Executor(provider, parallelism, retry).run(target_plan), target_plan


def test_apply_from_empty_creates_dependencies_first_and_converges():
    broker = Broker()
    result, _ = run(broker, topology())
    assert result.ok and result.counts() == {"succeeded": 4, "failed": 0, "skipped": 0}
    created = [a.name for _, a in broker.calls]
    assert created.index("orders.dlq") < created.index("orders.billing") < created.index("orders->orders.billing")
    again, target_plan = run(broker, topology())
    assert target_plan.pending == [] and again.results == []


def test_bulk_path_creates_everything_in_one_call_when_the_provider_offers_it():
    broker = Broker()
    result, _ = run(broker, topology(), bulk=True)
    assert result.ok
    assert broker.bulk_calls == 1
    assert len(broker.objects) == 4


def test_bulk_path_updates_many_resources_in_place_in_one_call():
    broker = Broker()
    run(broker, topology(), bulk=True)
    changed = [resource(r.address.kind, r.address.name, {**r.properties, "note": "v2"}, r.depends_on)
               if r.address.kind == "exchange" or r.address.name == "orders.dlq" else r for r in topology()]
    broker.fail_permanent = {addr("queue", "orders.dlq")}
    result, target_plan = run(broker, changed, bulk=True)
    assert [c.action for c in target_plan.pending] == [Action.UPDATE, Action.UPDATE]
    assert broker.bulk_update_calls == 1
    assert {r.address.name: (r.status, r.step) for r in result.results} == {
        "orders": ("succeeded", "update"), "orders.dlq": ("failed", "update")}
    assert broker.objects[addr("exchange", "orders")].properties["note"] == "v2"


def test_bulk_updates_waiting_for_a_failed_create_are_skipped():
    broker = Broker()
    run(broker, topology()[:1], bulk=True)
    exchange = resource("exchange", "orders", {"type": "topic", "note": "v2"})
    queues = [resource("queue", f"q{i}", {}) for i in range(2)]
    alternate = resource("exchange", "orders.alt", {"type": "topic"})
    broker.objects[alternate.address] = alternate
    waiting = resource("exchange", "orders.alt", {"type": "topic", "note": "v2"}, deps=[queues[0].address])
    broker.fail_permanent = {queues[0].address}
    result, _ = run(broker, [exchange, *queues, waiting], bulk=True)
    status = {r.address.name: r.status for r in result.results}
    assert status == {"orders": "skipped", "q0": "failed", "q1": "succeeded", "orders.alt": "skipped"}


def test_transient_errors_are_retried_with_backoff_until_success():
    broker = Broker(fail_transient={addr("queue", "orders.dlq"): 2})
    result, _ = run(broker, topology())
    assert result.ok
    dlq = next(r for r in result.results if r.address.name == "orders.dlq")
    assert dlq.attempts == 3


def test_retry_after_from_the_broker_is_honoured():
    slept: list[float] = []
    broker = Broker(fail_transient={addr("exchange", "orders"): 1}, retry_after=7.0)
    result, _ = run(broker, topology(), retry=RetryPolicy(attempts=3, sleep=slept.append))
    assert result.ok and slept == [7.0]


def test_exponential_backoff_with_jitter_stays_within_bounds():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 8.0)):
        delay = policy.delay(attempt, None)
        assert ceiling / 2 <= delay <= ceiling


def test_a_permanent_failure_stops_scheduling_and_reports_each_change_exactly():
    broker = Broker(fail_permanent={addr("queue", "orders.dlq")})
    result, _ = run(broker, topology(), parallelism=1)
    status = {r.address.name: r.status for r in result.results}
    assert status == {
        "orders": "succeeded",
        "orders.dlq": "failed",
        "orders.billing": "skipped",
        "orders->orders.billing": "skipped",
    }
    failed = next(r for r in result.results if r.status == "failed")
    assert failed.error == "400 Bad Request: orders.dlq refused by the broker"
    assert not result.ok


def test_transient_errors_that_never_clear_fail_after_the_attempt_limit():
    broker = Broker(fail_transient={addr("exchange", "orders"): 99})
    result, _ = run(broker, topology())
    exchange = next(r for r in result.results if r.address.name == "orders")
    assert (exchange.status, exchange.attempts) == ("failed", 4)


def test_rerun_after_a_partial_apply_finishes_the_job_without_duplicates():
    broker = Broker(fail_permanent={addr("queue", "orders.billing")})
    first, _ = run(broker, topology(), parallelism=1)
    assert not first.ok
    broker.fail_permanent.clear()
    broker.calls.clear()
    second, _ = run(broker, topology())
    assert second.ok
    assert sorted(a.name for _, a in broker.calls) == ["orders->orders.billing", "orders.billing"]


def test_replace_deletes_then_recreates_the_queue_and_its_binding():
    broker = Broker()
    run(broker, topology())
    changed = topology()
    changed[2].properties["arguments"]["x-max-length"] = 100
    broker.calls.clear()
    result, target_plan = run(broker, changed, PlanOptions(allow_replace=True))
    assert result.ok
    assert [(c.action.value, c.address.name) for c in target_plan.pending] == [
        ("replace", "orders.billing"), ("replace", "orders->orders.billing")]
    actions = [(action, a.name) for action, a in broker.calls]
    assert actions[:2] == [("delete", "orders->orders.billing"), ("delete", "orders.billing")]
    assert actions[2:] == [("create", "orders.billing"), ("create", "orders->orders.billing")]
    assert broker.objects[addr("queue", "orders.billing")].properties["arguments"]["x-max-length"] == 100


def test_parallelism_is_bounded():
    broker = Broker(delay=0.02)
    in_flight = []
    peak = []
    lock = threading.Lock()
    original = MemoryProvider.apply

    def tracking(self, change):
        with lock:
            in_flight.append(1)
            peak.append(len(in_flight))
        try:
            original(self, change)
        finally:
            with lock:
                in_flight.pop()

    MemoryProvider.apply = tracking
    try:
        result, _ = run(broker, [resource("queue", f"q{i}") for i in range(12)], parallelism=3)
    finally:
        MemoryProvider.apply = original
    assert result.ok and max(peak) == 3


def test_lock_contention_waits_then_fails_with_a_clear_error():
    provider = MemoryProvider("mem", Broker())
    with provider.lock("first apply", timeout_s=1):
        started = time.monotonic()
        with pytest.raises(ProviderError, match=r"timed out after 0.3s waiting for the apply lock .*held by first apply"):
            with provider.lock("second apply", timeout_s=0.3):
                pass
        assert time.monotonic() - started >= 0.3
    with provider.lock("third apply", timeout_s=0.3):
        pass


def test_plan_actions_are_executed_only_for_pending_changes():
    broker = Broker()
    run(broker, topology())
    result, target_plan = run(broker, topology())
    assert all(c.action is Action.NOOP for c in target_plan.changes) and result.results == []


def test_a_create_waiting_for_bulk_updated_topics_runs_after_them_not_skipped():
    """F5's shape: two topic updates take the bulk path, one ACL create (below the bulk threshold)
    depends on one of them; it must run once the updates succeed."""
    topics = [resource("topic", name, {"configs": {"retention.ms": "3600000"}}) for name in ("k4.a", "k4.b")]
    broker = Broker(objects={t.address: t for t in topics})
    acl = resource("acl", "ALLOW User:bob READ TOPIC:k4.a", {"operation": "READ"}, deps=[topics[0].address])
    updated = [resource("topic", t.address.name, {"configs": {"retention.ms": "7200000"}}) for t in topics]
    result, target_plan = run(broker, [*updated, acl], bulk=True)
    assert [(c.action, c.address.name) for c in target_plan.pending] == [
        (Action.UPDATE, "k4.a"), (Action.UPDATE, "k4.b"), (Action.CREATE, "ALLOW User:bob READ TOPIC:k4.a")]
    assert {r.address.name: (r.status, r.step) for r in result.results} == {
        "k4.a": ("succeeded", "update"), "k4.b": ("succeeded", "update"),
        "ALLOW User:bob READ TOPIC:k4.a": ("succeeded", "create")}
    assert broker.bulk_update_calls == 1
    assert broker.calls[-1] == ("create", acl.address)
    assert acl.address in broker.objects


def test_bulk_creates_waiting_for_bulk_updates_run_in_a_later_bulk_call():
    topics = [resource("topic", name, {"configs": {"retention.ms": "3600000"}}) for name in ("t.a", "t.b")]
    broker = Broker(objects={t.address: t for t in topics})
    updated = [resource("topic", t.address.name, {"configs": {"retention.ms": "7200000"}}) for t in topics]
    acls = [resource("acl", f"READ {t.address.name}", {}, deps=[t.address]) for t in topics]
    result, _ = run(broker, [*updated, *acls], bulk=True)
    assert result.ok and result.counts() == {"succeeded": 4, "failed": 0, "skipped": 0}
    assert (broker.bulk_calls, broker.bulk_update_calls) == (1, 1)
    assert [action for action, _ in broker.calls] == ["update", "update", "create", "create"]


def test_an_update_waiting_for_another_update_runs_in_the_next_bulk_round():
    existing = [resource("exchange", name, {"type": "topic"}) for name in ("x1", "x2", "x3")]
    broker = Broker(objects={e.address: e for e in existing})
    first, second = (resource("exchange", n, {"type": "topic", "note": "v2"}) for n in ("x1", "x2"))
    third = resource("exchange", "x3", {"type": "topic", "note": "v2"}, deps=[first.address])
    broker.objects[third.address].depends_on = [first.address]
    result, _ = run(broker, [first, second, third], bulk=True)
    assert result.ok
    assert [a.name for _, a in broker.calls] == ["x1", "x2", "x3"]


@pytest.mark.timeout(30)
def test_a_dependency_cycle_beside_bulk_creates_ends_with_both_skipped_instead_of_spinning():
    """Two exchanges naming each other (alternate exchanges) are a cycle the planner keeps; the
    rounds once offered them forever and apply never returned."""
    class BulkCreatesOnly(MemoryProvider):
        def capabilities(self):
            return Capabilities(bulk_create=True, bulk_update=False, bulk_threshold=2)

    broker = Broker()
    for name in ("a", "b"):
        live = resource("exchange", name, {"type": "topic"})
        broker.objects[live.address] = live
    a = resource("exchange", "a", {"type": "topic", "note": 2}, deps=[addr("exchange", "b")])
    b = resource("exchange", "b", {"type": "topic", "note": 2}, deps=[addr("exchange", "a")])
    queues = [resource("queue", f"q{i}", {}) for i in range(3)]
    provider = BulkCreatesOnly("mem", broker, bulk=True)
    target_plan = plan_target("mem", "memory", {r.address: r for r in [a, b, *queues]}, provider.read(), provider,
                              PlanOptions())
    result = Executor(provider, 4, NO_SLEEP).run(target_plan)
    assert {r.address.name: r.status for r in result.results} == {
        "q0": "succeeded", "q1": "succeeded", "q2": "succeeded", "a": "skipped", "b": "skipped"}
    assert {r.error for r in result.results if r.status == "skipped"} == {
        "not started: it waits for a change that waits for it (a dependency cycle)"}
