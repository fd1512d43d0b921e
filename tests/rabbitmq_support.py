"""Helpers for tests against the local RabbitMQ (scripts/services up rabbitmq).

Every test works in its own vhost with a random name, deleted afterwards, so tests of
different engineers running at the same time never see each other's objects.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from click.testing import CliRunner

from brokerform.cli import main

RABBIT_TARGET = """\
brokerform: 1
targets:
  rmq:
    type: rabbitmq
    url: ${env:RABBITMQ_URL}
    amqp_url: ${env:RABBITMQ_AMQP_URL}
    username: ${env:RABBITMQ_USERNAME}
    password: ${env:RABBITMQ_PASSWORD}
    scope:
      vhost: "{{ vars.vhost }}"
"""


def seg(value: str) -> str:
    return quote(value, safe="")


class Admin:
    """Direct management-API access for arranging and checking broker state by hand."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.http = httpx.Client(base_url=env["RABBITMQ_URL"], auth=(env["RABBITMQ_USERNAME"], env["RABBITMQ_PASSWORD"]),
                                 timeout=30, verify=False)

    def get(self, path: str) -> Any:
        response = self.http.get(path)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def put(self, path: str, body: Any) -> None:
        self.http.put(path, json=body).raise_for_status()

    def post(self, path: str, body: Any) -> httpx.Response:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response

    def delete(self, path: str) -> None:
        response = self.http.delete(path)
        if response.status_code != 404:
            response.raise_for_status()

    def create_vhost(self, vhost: str) -> None:
        self.put(f"/api/vhosts/{seg(vhost)}", {})

    def delete_vhost(self, vhost: str) -> None:
        self.delete(f"/api/vhosts/{seg(vhost)}")

    def queue(self, vhost: str, name: str) -> dict | None:
        return self.get(f"/api/queues/{seg(vhost)}/{seg(name)}")

    def queue_bindings(self, vhost: str, name: str) -> list[dict]:
        return [b for b in self.get(f"/api/queues/{seg(vhost)}/{seg(name)}/bindings") if b["source"] != ""]

    def publish(self, vhost: str, queue: str, body: str = "payload", exchange: str = "amq.default",
                routing_key: str | None = None, properties: dict | None = None) -> bool:
        response = self.post(f"/api/exchanges/{seg(vhost)}/{seg(exchange)}/publish", {
            "properties": properties or {"delivery_mode": 2}, "routing_key": routing_key if routing_key is not None else queue,
            "payload": body, "payload_encoding": "string"})
        return response.json()["routed"]

    def wait_for_messages(self, vhost: str, queue: str, count: int, timeout: float = 20) -> None:
        """The management API's counts lag behind by up to the stats interval (5 s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.queue(vhost, queue) or {}
            if info.get("messages") == count:
                return
            time.sleep(0.5)
        raise AssertionError(f"queue {queue} did not report {count} message(s) within {timeout}s: {info.get('messages')}")


def unique_vhost(label: str) -> str:
    return f"bf-test-{label}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def rabbit_env(service_env) -> dict[str, str]:
    env = service_env("rabbitmq")
    if not env.get("RABBITMQ_URL"):
        pytest.fail("RabbitMQ is not running: run scripts/services up rabbitmq")
    try:
        httpx.get(env["RABBITMQ_URL"] + "/api/overview", auth=(env["RABBITMQ_USERNAME"], env["RABBITMQ_PASSWORD"]),
                  timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.fail(f"RabbitMQ management API not reachable at {env['RABBITMQ_URL']}: {exc}")
    for key, value in env.items():
        os.environ[key] = value
    return env


@pytest.fixture
def admin(rabbit_env):
    client = Admin(rabbit_env)
    yield client
    client.http.close()


@pytest.fixture
def vhost(admin, request):
    """A fresh, unique vhost name (not created); deleted after the test."""
    name = unique_vhost(request.node.name[5:25].replace("_", "-"))
    yield name
    admin.delete_vhost(name)


def write_manifest(folder: Path, body: str, header: str = RABBIT_TARGET) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.yaml"
    path.write_text(header + body)
    return path


def copy_example(name: str, destination: Path) -> Path:
    from conftest import EXAMPLES

    shutil.copytree(EXAMPLES / name, destination)
    return destination


def cli(*args: str, check: int | None = None) -> tuple[int, str]:
    """Run the brokerform CLI in-process; returns (exit code, stdout+stderr)."""
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    output = result.output  # click 8.2+: stdout and stderr interleaved
    if check is not None:
        assert result.exit_code == check, f"brokerform {' '.join(map(str, args))} exited {result.exit_code}:\n{output}"
    return result.exit_code, output


def plan_json(path: Path, *args: str) -> dict:
    result = CliRunner().invoke(main, ["plan", str(path), "--output", "json", *args], catch_exceptions=False)
    return json.loads(result.stdout)


def changes_by_id(plan: dict) -> dict[str, dict]:
    return {c["address"]["kind"] + ":" + c["address"]["name"]: c for t in plan["targets"] for c in t["changes"]
            if c["action"] != "noop"}
