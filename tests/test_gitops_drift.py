"""`brokerform drift` exit codes against the local RabbitMQ: 0 in sync, 2 drifted, 1 unreachable."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from click.testing import CliRunner

from brokerform.cli import main

pytestmark = pytest.mark.rabbitmq

MANIFEST = """\
brokerform: 1
targets:
  shop:
    type: rabbitmq
    url: ${{env:RABBITMQ_URL}}
    username: ${{env:RABBITMQ_USERNAME}}
    password: ${{env:RABBITMQ_PASSWORD}}
    scope:
      vhost: {vhost}
    exchanges:
      orders: {{type: topic}}
    queues:
      orders.billing: {{type: quorum}}
      orders.shipping: {{type: quorum}}
    bindings:
      - {{source: orders, destination: orders.billing, routing_key: "order.*"}}
      - {{source: orders, destination: orders.shipping, routing_key: order.paid}}
"""

UNREACHABLE = """\
  legacy:
    type: rabbitmq
    url: http://127.0.0.1:9
    password: ${env:LEGACY_RABBITMQ_PASSWORD:-unused}
    timeout: 2s
    queues:
      legacy.jobs: {}
"""


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def rabbit(service_env) -> httpx.Client:
    env = service_env("rabbitmq")
    with httpx.Client(base_url=env["RABBITMQ_URL"], auth=(env["RABBITMQ_USERNAME"], env["RABBITMQ_PASSWORD"]),
                      timeout=30) as client:
        yield client


@pytest.fixture
def applied(tmp_path: Path, rabbit: httpx.Client):
    """A small manifest applied to a fresh vhost; the vhost is deleted afterwards."""
    vhost = f"drift-{uuid.uuid4().hex[:10]}"
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(MANIFEST.format(vhost=vhost), encoding="utf-8")
    try:
        result = invoke("apply", str(manifest), "--auto-approve")
        assert result.exit_code == 0, result.output
        yield manifest, vhost
    finally:
        rabbit.delete(f"/api/vhosts/{quote(vhost, safe='')}")


def drift_json(manifest: Path) -> tuple[int, dict]:
    result = invoke("drift", str(manifest), "--format", "json")
    return result.exit_code, json.loads(result.output)


def test_drift_is_exit_0_when_the_broker_matches_the_manifest(applied):
    manifest, _ = applied
    code, report = drift_json(manifest)
    assert code == 0
    assert report["drifted"] is False
    assert [(t["target"], t["status"], t["resources"]) for t in report["targets"]] == [("shop", "in sync", [])]


def test_drift_is_exit_2_and_names_a_queue_deleted_by_hand(applied, rabbit):
    manifest, vhost = applied
    deleted = rabbit.delete(f"/api/queues/{quote(vhost, safe='')}/orders.shipping")
    assert deleted.status_code == 204
    code, report = drift_json(manifest)
    assert code == 2
    [target] = report["targets"]
    assert target["status"] == "drifted"
    # RabbitMQ drops a queue's bindings with it: both come back.
    assert target["resources"] == [f"shop.queue[{vhost}/orders.shipping]",
                                   f"shop.binding[{vhost}/orders -> queue:orders.shipping [order.paid]]"]
    assert target["changes"] == {"create": 2, "update": 0, "replace": 0, "delete": 0, "blocked": 0}
    markdown = invoke("drift", str(manifest)).output
    assert "| `shop` | rabbitmq | ⚠️ drifted | 2 | 0 | 0 | 0 | 0 |" in markdown
    assert f"- `shop.queue[{vhost}/orders.shipping]`" in markdown


def test_drift_is_exit_1_for_an_unreachable_target_and_still_reports_the_others(applied, rabbit):
    manifest, vhost = applied
    manifest.write_text(manifest.read_text(encoding="utf-8") + UNREACHABLE, encoding="utf-8")
    rabbit.delete(f"/api/queues/{quote(vhost, safe='')}/orders.billing")
    code, report = drift_json(manifest)
    assert code == 1
    by_target = {t["target"]: t for t in report["targets"]}
    assert by_target["legacy"]["status"] == "error"
    assert "127.0.0.1:9" in by_target["legacy"]["error"]
    assert by_target["shop"]["status"] == "drifted"
    assert by_target["shop"]["resources"] == [f"shop.queue[{vhost}/orders.billing]",
                                              f"shop.binding[{vhost}/orders -> queue:orders.billing [order.*]]"]
