"""Contract tests: the REAL azure-mgmt-servicebus SDK against tests/support/arm_servicebus.py.

These pin down the behaviours of the ARM Microsoft.ServiceBus contract that
brokerform's Azure provider relies on (see docs/azure-contract-server.md).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("azure.mgmt.servicebus")
pytest.importorskip("azure.identity")

from azure.core.exceptions import (  # noqa: E402
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.mgmt.servicebus import ServiceBusManagementClient  # noqa: E402
from azure.mgmt.servicebus import models as m  # noqa: E402

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.arm_servicebus import (  # noqa: E402
    DEFAULT_API_VERSION,
    TIMESPAN_MAX,
    ArmServiceBusServer,
    format_duration,
    parse_duration,
)
from tests.support.azure_credentials import FakeTokenCredential  # noqa: E402

RG = "brokerform-rg"
NS = "bf-contract-ns"


def raw(pipeline_response, deserialized, headers):
    """``cls=`` hook: return the JSON the server actually sent."""
    return pipeline_response.http_response.json()


@pytest.fixture(scope="module")
def server():
    with ArmServiceBusServer(page_size=2) as srv:
        yield srv


@pytest.fixture
def srv(server):
    server.reset()
    server.page_size = 2
    return server


@pytest.fixture
def credential():
    return FakeTokenCredential()


@pytest.fixture
def client(srv, credential):
    c = ServiceBusManagementClient(credential, srv.subscription_id, base_url=srv.base_url, **srv.sdk_client_kwargs())
    yield c
    c.close()


def make_namespace(client, name=NS, sku="Standard", **props):
    body = m.SBNamespace(location="westeurope", sku=m.SBSku(name=sku), properties=m.SBNamespaceProperties(**props))
    return client.namespaces.begin_create_or_update(RG, name, body).result()


@pytest.fixture
def ns(client):
    return make_namespace(client)


# --------------------------------------------------------------------------- transport


def test_sdk_defaults_to_the_api_version_the_server_implements(client, srv, ns, credential):
    assert client._config.api_version == DEFAULT_API_VERSION == "2026-01-01"
    assert all(r.query["api-version"] == DEFAULT_API_VERSION for r in srv.request_log)
    assert ("get_token_info", ("https://management.azure.com/.default",)) in credential.calls


def test_plain_http_needs_enforce_https_false(srv, credential, ns):
    from azure.core.exceptions import ServiceRequestError

    plain = ServiceBusManagementClient(credential, srv.subscription_id, base_url=srv.base_url, retry_total=0)
    with pytest.raises(ServiceRequestError, match="non-TLS"):
        plain.namespaces.get(RG, NS)
    # the documented per-call switch works without the helper policy
    assert plain.namespaces.get(RG, NS, enforce_https=False).name == NS


def _raw_request(srv, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, (json.loads(data) if data else None)


def test_bearer_token_required_and_api_version_checked(srv, ns):
    path = f"/subscriptions/{srv.subscription_id}/resourceGroups/{RG}/providers/Microsoft.ServiceBus/namespaces/{NS}"
    status, body = _raw_request(srv, "GET", path + f"?api-version={DEFAULT_API_VERSION}")
    assert status == 401 and body["error"]["code"] == "AuthenticationFailed"
    status, body = _raw_request(srv, "GET", path + f"?api-version={DEFAULT_API_VERSION}", {"Authorization": "Basic abc"})
    assert status == 401 and body["error"]["code"] == "InvalidAuthenticationToken"
    status, body = _raw_request(srv, "GET", path, {"Authorization": "Bearer x"})
    assert status == 400 and body["error"]["code"] == "MissingApiVersionParameter"
    status, body = _raw_request(srv, "GET", path + "?api-version=1999-01-01", {"Authorization": "Bearer x"})
    assert status == 400 and body["error"]["code"] == "NoRegisteredProviderFound"
    status, body = _raw_request(srv, "GET", path + "?api-version=2021-11-01", {"Authorization": "Bearer x"})
    assert status == 200 and body["name"] == NS


def test_wrong_token_type_maps_to_client_authentication_error(srv, ns):
    class NoTokenCredential(FakeTokenCredential):
        pass

    c = ServiceBusManagementClient(NoTokenCredential(token=" "), srv.subscription_id, base_url=srv.base_url, **srv.sdk_client_kwargs())
    with pytest.raises(ClientAuthenticationError):
        c.namespaces.get(RG, NS)


# --------------------------------------------------------------------------- namespaces


def test_namespace_create_get_and_root_rule(client, srv):
    created = make_namespace(client, minimum_tls_version="1.2", disable_local_auth=True)
    assert srv.response_log[-1] == 201  # LRO finished on the first response (provisioningState Succeeded)
    assert created.properties.provisioning_state == "Succeeded"
    got = client.namespaces.get(RG, NS)
    assert got.sku.name == "Standard" and got.sku.tier == "Standard"
    assert got.properties.disable_local_auth is True
    assert got.properties.minimum_tls_version == "1.2"
    assert got.properties.service_bus_endpoint == f"https://{NS}.servicebus.windows.net:443/"
    assert got.type == "Microsoft.ServiceBus/Namespaces"
    rules = [r.name for r in client.namespaces.list_authorization_rules(RG, NS)]
    assert rules == ["RootManageSharedAccessKey"]
    # PUT replaces: disableLocalAuth omitted -> back to false
    make_namespace(client)
    assert client.namespaces.get(RG, NS).properties.disable_local_auth is False
    assert srv.response_log[-2] == 200


def test_namespace_missing_and_entities_need_their_namespace(client):
    with pytest.raises(ResourceNotFoundError) as exc:
        client.namespaces.get(RG, "missing-ns")
    assert exc.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as exc:
        client.queues.create_or_update(RG, "missing-ns", "q", m.SBQueue())
    assert exc.value.error.code == "ParentResourceNotFound"
    with pytest.raises(ResourceNotFoundError):
        client.queues.get(RG, "missing-ns", "q")


def test_namespace_delete_cascades(client, ns):
    client.queues.create_or_update(RG, NS, "q1", m.SBQueue())
    client.namespaces.begin_delete(RG, NS).result()
    with pytest.raises(ResourceNotFoundError):
        client.namespaces.get(RG, NS)
    make_namespace(client)
    assert list(client.queues.list_by_namespace(RG, NS)) == []


def test_namespace_name_rules(client):
    with pytest.raises(HttpResponseError) as exc:
        make_namespace(client, name="ab")
    assert exc.value.status_code == 400


# --------------------------------------------------------------------------- queues


def test_queue_defaults_filled_in_by_the_service(client, ns):
    body = client.queues.create_or_update(RG, NS, "orders", m.SBQueue(), cls=raw)
    p = body["properties"]
    assert body["type"] == "Microsoft.ServiceBus/namespaces/queues"
    assert body["id"].endswith(f"/namespaces/{NS}/queues/orders")
    assert p["lockDuration"] == "PT1M"
    assert p["maxDeliveryCount"] == 10
    assert p["maxSizeInMegabytes"] == 1024
    assert p["maxMessageSizeInKilobytes"] == 256
    assert p["defaultMessageTimeToLive"] == TIMESPAN_MAX
    assert p["autoDeleteOnIdle"] == TIMESPAN_MAX
    assert p["duplicateDetectionHistoryTimeWindow"] == "PT10M"
    assert p["enableBatchedOperations"] is True
    assert p["status"] == "Active"
    assert p["requiresSession"] is False and p["requiresDuplicateDetection"] is False
    assert p["enablePartitioning"] is False and p["deadLetteringOnMessageExpiration"] is False
    assert p["messageCount"] == 0 and p["sizeInBytes"] == 0
    assert p["countDetails"]["activeMessageCount"] == 0
    assert "forwardTo" not in p
    q = client.queues.get(RG, NS, "orders")
    assert q.properties.lock_duration == dt.timedelta(minutes=1)
    assert q.properties.created_at.tzinfo is not None


def test_queue_get_update_delete(client, srv, ns):
    props = m.SBQueueProperties(lock_duration=dt.timedelta(seconds=30), max_delivery_count=5, requires_session=True)
    client.queues.create_or_update(RG, NS, "orders", m.SBQueue(properties=props))
    sent = srv.requests_to("PUT", "/queues/orders")[-1].body
    assert sent == {"properties": {"lockDuration": "PT30S", "maxDeliveryCount": 5, "requiresSession": True}}
    q = client.queues.get(RG, NS, "orders")
    assert q.properties.max_delivery_count == 5 and q.properties.requires_session is True
    created_at = q.properties.created_at

    props.max_delivery_count = 7
    client.queues.create_or_update(RG, NS, "orders", m.SBQueue(properties=props))
    q = client.queues.get(RG, NS, "orders")
    assert q.properties.max_delivery_count == 7
    assert q.properties.created_at == created_at
    assert q.properties.updated_at >= created_at

    client.queues.delete(RG, NS, "orders")
    assert srv.response_log[-1] == 200
    with pytest.raises(ResourceNotFoundError) as exc:
        client.queues.get(RG, NS, "orders")
    assert exc.value.status_code == 404 and exc.value.error.code == "NotFound"
    client.queues.delete(RG, NS, "orders")  # deleting a missing entity is not an error
    assert srv.response_log[-1] == 204


def test_queue_names_are_case_insensitive(client, ns):
    client.queues.create_or_update(RG, NS, "Orders", m.SBQueue())
    assert client.queues.get(RG, NS, "ORDERS").name == "Orders"
    client.queues.create_or_update(RG, NS, "orders", m.SBQueue(properties=m.SBQueueProperties(max_delivery_count=4)))
    assert [q.name for q in client.queues.list_by_namespace(RG, NS)] == ["Orders"]
    client.queues.delete(RG, NS, "oRdErS")
    assert list(client.queues.list_by_namespace(RG, NS)) == []


def test_list_follows_next_link_across_pages(client, srv, ns):
    names = [f"q{i:02d}" for i in range(7)]
    for n in names:
        client.queues.create_or_update(RG, NS, n, m.SBQueue())
    srv.request_log.clear()
    assert [q.name for q in client.queues.list_by_namespace(RG, NS)] == names
    pages = srv.requests_to("GET", "/queues")
    assert len(pages) == 4  # 2 + 2 + 2 + 1
    assert "$skipToken" not in pages[0].query
    assert [p.query.get("$skipToken") for p in pages[1:]] == ["2", "4", "6"]
    assert all(p.query["api-version"] == DEFAULT_API_VERSION for p in pages)
    # $top limits the page size; the pager still follows nextLink
    assert len(list(client.queues.list_by_namespace(RG, NS, top=1))) == 7


def test_put_replaces_the_whole_entity(client, ns):
    """Omitted properties go back to the service defaults (PUT is not PATCH)."""
    full = m.SBQueueProperties(
        lock_duration=dt.timedelta(minutes=2),
        max_delivery_count=3,
        dead_lettering_on_message_expiration=True,
        default_message_time_to_live=dt.timedelta(days=14),
        status="SendDisabled",
    )
    client.queues.create_or_update(RG, NS, "orders", m.SBQueue(properties=full))
    client.queues.create_or_update(RG, NS, "orders", m.SBQueue(properties=m.SBQueueProperties(max_size_in_megabytes=2048)))
    p = client.queues.get(RG, NS, "orders", cls=raw)["properties"]
    assert p["maxSizeInMegabytes"] == 2048
    assert p["lockDuration"] == "PT1M"
    assert p["maxDeliveryCount"] == 10
    assert p["deadLetteringOnMessageExpiration"] is False
    assert p["defaultMessageTimeToLive"] == TIMESPAN_MAX
    assert p["status"] == "Active"


def test_immutable_properties(client, ns):
    client.queues.create_or_update(RG, NS, "sess", m.SBQueue(properties=m.SBQueueProperties(requires_session=True)))
    with pytest.raises(HttpResponseError) as exc:
        client.queues.create_or_update(RG, NS, "sess", m.SBQueue(properties=m.SBQueueProperties(requires_session=False)))
    assert exc.value.status_code == 400
    assert exc.value.error.code == "BadRequest"
    assert "The value for the requiresSession property of an existing Queue cannot be changed" in exc.value.message
    # omitting it is a change too, because omitted == default (false)
    with pytest.raises(HttpResponseError, match="requiresSession"):
        client.queues.create_or_update(RG, NS, "sess", m.SBQueue())
    client.queues.create_or_update(RG, NS, "plain", m.SBQueue())
    for field, name in (("requires_duplicate_detection", "requiresDuplicateDetection"), ("enable_partitioning", "enablePartitioning")):
        with pytest.raises(HttpResponseError, match=f"{name} property of an existing Queue"):
            client.queues.create_or_update(RG, NS, "plain", m.SBQueue(properties=m.SBQueueProperties(**{field: True})))
    client.topics.create_or_update(RG, NS, "t", m.SBTopic())
    with pytest.raises(HttpResponseError, match="requiresDuplicateDetection property of an existing Topic"):
        client.topics.create_or_update(RG, NS, "t", m.SBTopic(properties=m.SBTopicProperties(requires_duplicate_detection=True)))


@pytest.mark.parametrize(
    "props, fragment",
    [
        (m.SBQueueProperties(lock_duration=dt.timedelta(minutes=6)), "lock time exceeds the allowed maximum of '5' minutes"),
        (m.SBQueueProperties(max_delivery_count=0), "MaxDeliveryCount"),
        (m.SBQueueProperties(auto_delete_on_idle=dt.timedelta(minutes=1)), "autoDeleteOnIdle"),
        (m.SBQueueProperties(max_size_in_megabytes=1000), "maxSizeInMegabytes"),
        (m.SBQueueProperties(duplicate_detection_history_time_window=dt.timedelta(days=8)), "duplicateDetectionHistoryTimeWindow"),
        (m.SBQueueProperties(forward_to="nowhere"), "forwardTo destination entity 'nowhere' does not exist"),
        (m.SBQueueProperties(status="ReceiveDisabledX"), "status"),
    ],
)
def test_queue_validation(client, ns, props, fragment):
    with pytest.raises(HttpResponseError) as exc:
        client.queues.create_or_update(RG, NS, "orders", m.SBQueue(properties=props))
    assert exc.value.status_code == 400
    assert fragment in exc.value.message
    with pytest.raises(ResourceNotFoundError):
        client.queues.get(RG, NS, "orders")


def test_entity_names_validated(client, ns):
    for bad in ("-lead", "trail-", "sp ace", "x" * 261):
        with pytest.raises(HttpResponseError) as exc:
            client.queues.create_or_update(RG, NS, bad, m.SBQueue())
        assert exc.value.status_code == 400
    client.queues.create_or_update(RG, NS, "a.b_c-d/e", m.SBQueue())


def test_forward_to_existing_entity(client, ns):
    client.queues.create_or_update(RG, NS, "target", m.SBQueue())
    q = client.queues.create_or_update(RG, NS, "src", m.SBQueue(properties=m.SBQueueProperties(forward_to="target")))
    assert q.properties.forward_to == "target"
    with pytest.raises(HttpResponseError, match="itself"):
        client.queues.create_or_update(RG, NS, "src", m.SBQueue(properties=m.SBQueueProperties(forward_to="src")))


def test_queue_and_topic_share_names(client, ns):
    client.queues.create_or_update(RG, NS, "events", m.SBQueue())
    with pytest.raises(ResourceExistsError):
        client.topics.create_or_update(RG, NS, "events", m.SBTopic())


def test_durations_normalised_like_the_service(client, srv, ns):
    client.queues.create_or_update(RG, NS, "q", m.SBQueue(properties=m.SBQueueProperties(lock_duration=dt.timedelta(minutes=1))))
    assert srv.requests_to("PUT", "/queues/q")[-1].body["properties"]["lockDuration"] == "PT01M00S"  # what the SDK sends
    assert client.queues.get(RG, NS, "q", cls=raw)["properties"]["lockDuration"] == "PT1M"  # what the service returns
    assert format_duration(parse_duration("P2DT0H0M0.5S")) == "P2DT0.5S"


def test_round_tripping_timespan_max_through_the_sdk(client, srv, ns):
    """Surprise for the provider: a timedelta built from TimeSpan.MaxValue does not serialise back to it."""
    client.queues.create_or_update(RG, NS, "q", m.SBQueue())
    q = client.queues.get(RG, NS, "q")
    # sending the model object back re-sends the raw JSON string it was read from: exact
    client.queues.create_or_update(RG, NS, "q", m.SBQueue(properties=q.properties))
    sent = srv.requests_to("PUT", "/queues/q")[-1].body["properties"]
    assert sent["autoDeleteOnIdle"] == TIMESPAN_MAX
    assert "createdAt" not in sent and "countDetails" not in sent  # read-only fields are not sent
    # a fresh model built from the timedelta goes through float seconds and loses the last digits
    idle = q.properties.auto_delete_on_idle
    client.queues.create_or_update(RG, NS, "q", m.SBQueue(properties=m.SBQueueProperties(auto_delete_on_idle=idle)))
    sent = srv.requests_to("PUT", "/queues/q")[-1].body["properties"]
    assert sent["autoDeleteOnIdle"] == "P10675199DT02H48M05.477539S"
    # the server keeps (normalised) what was sent, so the entity now differs from the default
    assert client.queues.get(RG, NS, "q", cls=raw)["properties"]["autoDeleteOnIdle"] == "P10675199DT2H48M5.477539S"


# --------------------------------------------------------------------------- throttling


def test_429_is_retried_after_retry_after(client, srv, ns):
    client.queues.create_or_update(RG, NS, "orders", m.SBQueue())
    srv.request_log.clear()
    srv.response_log.clear()
    srv.throttle_next(1, retry_after=1)
    started = time.monotonic()
    assert client.queues.get(RG, NS, "orders").name == "orders"
    assert time.monotonic() - started >= 0.9
    gets = srv.requests_to("GET", "/queues/orders")
    assert len(gets) == 2 and gets[0] == gets[1]
    assert srv.response_log == [429, 200]


def test_429_exhausting_retries_surfaces_the_arm_error(client, srv, ns):
    srv.throttle_next(10, retry_after=0)
    with pytest.raises(HttpResponseError) as exc:
        client.namespaces.get(RG, NS)
    assert exc.value.status_code == 429
    assert exc.value.error.code == "TooManyRequests"
    assert srv.response_log.count(429) == 4  # first try + retry_total=3


# --------------------------------------------------------------------------- topics, subscriptions, rules


def test_topic_subscription_rules(client, srv, ns):
    t = client.topics.create_or_update(RG, NS, "orders", m.SBTopic(properties=m.SBTopicProperties(requires_duplicate_detection=True)))
    assert t.properties.support_ordering is True and t.properties.requires_duplicate_detection is True
    s = client.subscriptions.create_or_update(RG, NS, "orders", "billing", m.SBSubscription(properties=m.SBSubscriptionProperties(max_delivery_count=4)))
    assert s.properties.max_delivery_count == 4
    assert s.properties.lock_duration == dt.timedelta(minutes=1)
    assert s.properties.dead_lettering_on_filter_evaluation_exceptions is True
    assert client.topics.get(RG, NS, "orders").properties.subscription_count == 1

    rules = list(client.rules.list_by_subscriptions(RG, NS, "orders", "billing"))
    assert [r.name for r in rules] == ["$Default"]
    assert rules[0].properties.filter_type == "SqlFilter"
    assert rules[0].properties.sql_filter.sql_expression == "1=1"

    sql = m.Rule(
        properties=m.Ruleproperties(
            filter_type="SqlFilter",
            sql_filter=m.SqlFilter(sql_expression="amount > 100"),
            action=m.Action(sql_expression="SET priority = 'high'"),
        )
    )
    r = client.rules.create_or_update(RG, NS, "orders", "billing", "big", sql)
    assert r.properties.action.sql_expression == "SET priority = 'high'"
    assert r.properties.sql_filter.compatibility_level == 20
    corr = m.Rule(
        properties=m.Ruleproperties(
            filter_type="CorrelationFilter",
            correlation_filter=m.CorrelationFilter(label="invoice", properties={"region": "eu"}),
        )
    )
    client.rules.create_or_update(RG, NS, "orders", "billing", "eu-invoices", corr)
    got = client.rules.get(RG, NS, "orders", "billing", "EU-INVOICES")
    assert got.properties.filter_type == "CorrelationFilter"
    assert got.properties.correlation_filter.label == "invoice"
    assert got.properties.correlation_filter.properties == {"region": "eu"}
    assert got.id.endswith("/topics/orders/subscriptions/billing/rules/eu-invoices")

    assert [r.name for r in client.rules.list_by_subscriptions(RG, NS, "orders", "billing")] == ["$Default", "big", "eu-invoices"]
    client.rules.delete(RG, NS, "orders", "billing", "$Default")
    with pytest.raises(ResourceNotFoundError):
        client.rules.get(RG, NS, "orders", "billing", "$Default")

    with pytest.raises(HttpResponseError, match="CorrelationFilter must have at least one"):
        client.rules.create_or_update(
            RG, NS, "orders", "billing", "empty",
            m.Rule(properties=m.Ruleproperties(filter_type="CorrelationFilter", correlation_filter=m.CorrelationFilter())),
        )


def test_subscription_immutability_and_forwarding(client, ns):
    client.topics.create_or_update(RG, NS, "t", m.SBTopic())
    client.subscriptions.create_or_update(RG, NS, "t", "s", m.SBSubscription(properties=m.SBSubscriptionProperties(requires_session=True)))
    with pytest.raises(HttpResponseError, match="requiresSession property of an existing Subscription cannot be changed"):
        client.subscriptions.create_or_update(RG, NS, "t", "s", m.SBSubscription())
    with pytest.raises(HttpResponseError, match="forwardTo"):
        client.subscriptions.create_or_update(RG, NS, "t", "fw", m.SBSubscription(properties=m.SBSubscriptionProperties(forward_to="missing")))
    client.queues.create_or_update(RG, NS, "sink", m.SBQueue())
    s = client.subscriptions.create_or_update(RG, NS, "t", "fw", m.SBSubscription(properties=m.SBSubscriptionProperties(forward_to="sink")))
    assert s.properties.forward_to == "sink"


def test_subscription_pagination_and_missing_parents(client, ns):
    client.topics.create_or_update(RG, NS, "t", m.SBTopic())
    for i in range(5):
        client.subscriptions.create_or_update(RG, NS, "t", f"s{i}", m.SBSubscription())
    assert [s.name for s in client.subscriptions.list_by_topic(RG, NS, "t")] == [f"s{i}" for i in range(5)]
    with pytest.raises(ResourceNotFoundError):
        client.subscriptions.create_or_update(RG, NS, "no-topic", "s", m.SBSubscription())
    with pytest.raises(ResourceNotFoundError):
        client.rules.create_or_update(RG, NS, "t", "no-sub", "r", m.Rule(properties=m.Ruleproperties(sql_filter=m.SqlFilter(sql_expression="1=1"))))


def test_topic_delete_cascades(client, ns):
    client.topics.create_or_update(RG, NS, "orders", m.SBTopic())
    client.subscriptions.create_or_update(RG, NS, "orders", "billing", m.SBSubscription())
    client.topics.create_or_update_authorization_rule(RG, NS, "orders", "pub", m.SBAuthorizationRule(properties=m.SBAuthorizationRuleProperties(rights=["Send"])))
    client.topics.delete(RG, NS, "orders")
    with pytest.raises(ResourceNotFoundError):
        client.subscriptions.get(RG, NS, "orders", "billing")
    client.topics.create_or_update(RG, NS, "orders", m.SBTopic())
    assert list(client.subscriptions.list_by_topic(RG, NS, "orders")) == []
    assert list(client.topics.list_authorization_rules(RG, NS, "orders")) == []


def test_basic_namespace_rejects_topics(client):
    make_namespace(client, name="bf-basic-ns", sku="Basic")
    with pytest.raises(HttpResponseError) as exc:
        client.topics.create_or_update(RG, "bf-basic-ns", "t", m.SBTopic())
    assert exc.value.status_code == 400 and "Basic tier" in exc.value.message
    q = client.queues.create_or_update(RG, "bf-basic-ns", "q", m.SBQueue(), cls=raw)
    assert q["properties"]["defaultMessageTimeToLive"] == "P14D"
    with pytest.raises(HttpResponseError, match="Sessions"):
        client.queues.create_or_update(RG, "bf-basic-ns", "s", m.SBQueue(properties=m.SBQueueProperties(requires_session=True)))


# --------------------------------------------------------------------------- authorization rules


def test_authorization_rules_at_every_level(client, ns):
    rule = m.SBAuthorizationRule(properties=m.SBAuthorizationRuleProperties(rights=["Listen", "Send"]))
    r = client.namespaces.create_or_update_authorization_rule(RG, NS, "app", rule)
    assert sorted(r.properties.rights) == ["Listen", "Send"]
    keys = client.namespaces.list_keys(RG, NS, "app")
    assert keys.key_name == "app"
    assert keys.primary_connection_string == f"Endpoint=sb://{NS}.servicebus.windows.net/;SharedAccessKeyName=app;SharedAccessKey={keys.primary_key}"
    assert keys.primary_key != keys.secondary_key
    assert client.namespaces.list_keys(RG, NS, "app").primary_key == keys.primary_key  # stable

    client.queues.create_or_update(RG, NS, "orders", m.SBQueue())
    client.queues.create_or_update_authorization_rule(
        RG, NS, "orders", "reader", m.SBAuthorizationRule(properties=m.SBAuthorizationRuleProperties(rights=["Listen"]))
    )
    qkeys = client.queues.list_keys(RG, NS, "orders", "reader")
    assert qkeys.primary_connection_string.endswith(";EntityPath=orders")
    assert [a.name for a in client.queues.list_authorization_rules(RG, NS, "orders")] == ["reader"]
    got = client.queues.get_authorization_rule(RG, NS, "orders", "READER")
    assert got.properties.rights == ["Listen"]
    assert got.type == "Microsoft.ServiceBus/Namespaces/Queues/AuthorizationRules"

    client.topics.create_or_update(RG, NS, "events", m.SBTopic())
    client.topics.create_or_update_authorization_rule(
        RG, NS, "events", "admin", m.SBAuthorizationRule(properties=m.SBAuthorizationRuleProperties(rights=["Manage", "Listen", "Send"]))
    )
    assert sorted(client.topics.get_authorization_rule(RG, NS, "events", "admin").properties.rights) == ["Listen", "Manage", "Send"]

    with pytest.raises(HttpResponseError, match="Manage right requires"):
        client.namespaces.create_or_update_authorization_rule(
            RG, NS, "bad", m.SBAuthorizationRule(properties=m.SBAuthorizationRuleProperties(rights=["Manage"]))
        )

    client.queues.delete_authorization_rule(RG, NS, "orders", "reader")
    with pytest.raises(ResourceNotFoundError):
        client.queues.get_authorization_rule(RG, NS, "orders", "reader")
    with pytest.raises(ResourceNotFoundError):
        client.queues.list_keys(RG, NS, "orders", "reader")
