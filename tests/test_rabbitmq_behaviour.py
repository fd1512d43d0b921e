"""What applied topologies do with real messages (pika against the local RabbitMQ)."""

from __future__ import annotations

import contextlib
import time

import pika
import pytest

from rabbitmq_support import admin, cli, rabbit_env, vhost, write_manifest  # noqa: F401 - fixtures

pytestmark = pytest.mark.rabbitmq


def apply(tmp_path, vhost: str, body: str):
    path = write_manifest(tmp_path / "m", body)
    cli("apply", path, "--var", f"vhost={vhost}", "--auto-approve", check=0)
    return path


@contextlib.contextmanager
def amqp(env: dict, vhost: str, username: str | None = None, password: str | None = None):
    parameters = pika.URLParameters(env["RABBITMQ_AMQP_URL"])
    parameters.virtual_host = vhost
    if username:
        parameters.credentials = pika.PlainCredentials(username, password)
    connection = pika.BlockingConnection(parameters)
    try:
        yield connection.channel()
    finally:
        with contextlib.suppress(Exception):
            connection.close()


def get_body(channel, queue: str, timeout: float = 10.0) -> bytes | None:
    """basic_get until a message arrives (dead-lettering and TTL expiry are asynchronous)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        method, _, body = channel.basic_get(queue, auto_ack=True)
        if method is not None:
            return body
        time.sleep(0.1)
    return None


def test_message_rejected_without_requeue_lands_in_the_dead_letter_queue(tmp_path, vhost, rabbit_env):
    apply(tmp_path, vhost, """
channels:
  jobs:
    target: rmq
    pattern: competing-consumers
    dead_letter: {max_deliveries: 3}
""")
    with amqp(rabbit_env, vhost) as channel:
        channel.basic_publish("jobs", "jobs", b"job-1")
        method, _, body = next(channel.consume("jobs", inactivity_timeout=10))
        assert body == b"job-1"
        channel.basic_reject(method.delivery_tag, requeue=False)
        channel.cancel()
        assert get_body(channel, "jobs.dlq") == b"job-1"
        assert channel.queue_declare("jobs", passive=True).method.message_count == 0


def test_message_whose_ttl_expires_is_dead_lettered(tmp_path, vhost, rabbit_env):
    apply(tmp_path, vhost, """
channels:
  payments:
    target: rmq
    pattern: point-to-point
    ttl: 500ms
    dead_letter: {}
""")
    with amqp(rabbit_env, vhost) as channel:
        channel.basic_publish("payments", "payments", b"too-late")
        assert get_body(channel, "payments.dlq", timeout=15) == b"too-late"


def test_retry_tier_returns_the_message_to_the_consumer_queue_after_its_delay(tmp_path, vhost, rabbit_env):
    apply(tmp_path, vhost, """
channels:
  jobs:
    target: rmq
    pattern: competing-consumers
    retry: {attempts: 1, initial_delay: 1s}
""")
    with amqp(rabbit_env, vhost) as channel:
        channel.basic_publish("jobs.retry.1s", "jobs", b"again")  # routing key = the consumer's queue
        assert channel.queue_declare("jobs", passive=True).method.message_count == 0
        assert get_body(channel, "jobs", timeout=15) == b"again"


def test_pubsub_fan_out_reaches_every_matching_subscription(tmp_path, vhost, rabbit_env):
    apply(tmp_path, vhost, """
channels:
  orders:
    target: rmq
    pattern: pubsub
    subscriptions:
      audit: {}
      billing: {filter: {routing_key: "order.*"}}
      shipping: {filter: {routing_key: "order.shipped"}}
""")
    with amqp(rabbit_env, vhost) as channel:
        channel.confirm_delivery()
        channel.basic_publish("orders", "order.shipped", b"shipped-1")
        channel.basic_publish("orders", "order.placed", b"placed-1")
        received = {q: [] for q in ("orders.audit", "orders.billing", "orders.shipping")}
        for queue, bodies in received.items():
            while (body := get_body(channel, queue, timeout=1)) is not None:
                bodies.append(body)
    assert received == {
        "orders.audit": [b"shipped-1", b"placed-1"],
        "orders.billing": [b"shipped-1", b"placed-1"],
        "orders.shipping": [b"shipped-1"],
    }


@pytest.mark.parametrize(("overflow", "durable", "accepted", "kept"), [
    ("reject-publish", False, ["m1", "m2"], ["m1", "m2"]),  # classic: exact
    # quorum (3.10): the limit is checked before each enqueue, so one message past it is still accepted
    ("reject-publish", True, ["m1", "m2", "m3"], ["m1", "m2", "m3"]),
    ("drop-head", False, ["m1", "m2", "m3", "m4"], ["m3", "m4"]),
    ("drop-head", True, ["m1", "m2", "m3", "m4"], ["m3", "m4"]),
], ids=["reject-publish-classic", "reject-publish-quorum", "drop-head-classic", "drop-head-quorum"])
def test_max_length_overflow_behaves_as_declared(tmp_path, vhost, rabbit_env, overflow, durable, accepted, kept):
    apply(tmp_path, vhost, f"""
channels:
  events:
    target: rmq
    pattern: point-to-point
    durable: {str(durable).lower()}
    max_length: {{messages: 2, overflow: {overflow}}}
""")
    confirmed, bodies = [], []
    with amqp(rabbit_env, vhost) as channel:
        channel.confirm_delivery()
        for body in ("m1", "m2", "m3", "m4"):
            with contextlib.suppress(pika.exceptions.NackError):
                channel.basic_publish("events", "events", body.encode())
                confirmed.append(body)
        while (body := get_body(channel, "events", timeout=1)) is not None:
            bodies.append(body.decode())
    assert (confirmed, bodies) == (accepted, kept)


def test_user_permissions_allow_and_deny_exactly_what_the_manifest_says(tmp_path, vhost, rabbit_env, monkeypatch):
    user = f"{vhost}-checkout"
    monkeypatch.setenv("BF_TEST_CHECKOUT_PASSWORD", "s3cret-checkout")
    apply(tmp_path, vhost, f"""
    users:
      {user}: {{password: "${{env:BF_TEST_CHECKOUT_PASSWORD}}"}}
    permissions:
      {user}: {{configure: "^$", write: "^orders$", read: "^orders\\\\.billing$"}}
channels:
  orders:
    target: rmq
    pattern: pubsub
    subscriptions: {{billing: {{}}, audit: {{}}}}
""")
    try:
        with amqp(rabbit_env, vhost, user, "s3cret-checkout") as channel:
            channel.confirm_delivery()
            channel.basic_publish("orders", "order.placed", b"ok")  # write on orders: allowed
            assert get_body(channel, "orders.billing") == b"ok"  # read on orders.billing: allowed
        with amqp(rabbit_env, vhost, user, "s3cret-checkout") as channel:
            with pytest.raises(pika.exceptions.ChannelClosedByBroker) as denied:
                channel.basic_get("orders.audit")
            assert denied.value.reply_code == 403
        with amqp(rabbit_env, vhost, user, "s3cret-checkout") as channel:
            with pytest.raises(pika.exceptions.ChannelClosedByBroker) as denied:
                channel.queue_declare("scratch")  # configure: nothing
            assert denied.value.reply_code == 403
        with pytest.raises(pika.exceptions.ProbableAuthenticationError):
            with amqp(rabbit_env, vhost, user, "wrong-password"):
                pass
    finally:
        from rabbitmq_support import Admin

        Admin(rabbit_env).delete(f"/api/users/{user}")
