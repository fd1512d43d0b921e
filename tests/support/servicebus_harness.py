"""Run brokerform's Service Bus provider against the local ARM contract server, or a real namespace.

Contract mode (default): an `ArmServiceBusServer` on 127.0.0.1, a fake token credential
injected through `provider.set_credential_factory`, and the environment variables the
example manifest reads (AZURE_ARM_ENDPOINT, AZURE_SUBSCRIPTION_ID, ...), with
BROKERFORM_AZURE_ALLOW_HTTP=1 so the SDK may talk plain http to loopback.

Live mode (BROKERFORM_AZURE_LIVE=1): AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and
AZURE_SERVICEBUS_NAMESPACE name an existing namespace, DefaultAzureCredential signs in,
and manifests are switched to `namespace_settings.manage: false` so the namespace itself
is never touched.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

LIVE = os.environ.get("BROKERFORM_AZURE_LIVE") == "1"
RESOURCE_GROUP = "payments-rg"


@dataclass
class AzureEnv:
    """Where the provider under test talks to, and an SDK client for arranging/inspecting state."""

    subscription_id: str
    resource_group: str
    namespace: str
    endpoint: str | None
    server: Any = None  # ArmServiceBusServer in contract mode
    env: dict[str, str] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.server is None

    def sdk(self):
        from azure.mgmt.servicebus import ServiceBusManagementClient

        if self.live:
            from azure.identity import DefaultAzureCredential

            return ServiceBusManagementClient(DefaultAzureCredential(), self.subscription_id)
        from support.azure_credentials import FakeTokenCredential

        return ServiceBusManagementClient(FakeTokenCredential(), self.subscription_id, base_url=self.server.base_url,
                                          **self.server.sdk_client_kwargs())

    def create_namespace(self, sku: str = "Standard") -> None:
        """Contract mode: create the namespace a manifest with manage: false expects to exist."""
        if self.live:
            return
        from azure.mgmt.servicebus import models as m

        with self.sdk() as client:
            client.namespaces.begin_create_or_update(
                self.resource_group, self.namespace,
                m.SBNamespace({"location": "westeurope", "sku": {"name": sku, "tier": sku}}),
            ).result()


def start(monkeypatch, server) -> AzureEnv:
    """Point the environment (and the provider's credential seam) at the contract server or Azure."""
    from brokerform.providers.servicebus import provider

    if LIVE:
        env = AzureEnv(os.environ["AZURE_SUBSCRIPTION_ID"], os.environ["AZURE_RESOURCE_GROUP"],
                       os.environ["AZURE_SERVICEBUS_NAMESPACE"], None)
        monkeypatch.delenv("AZURE_ARM_ENDPOINT", raising=False)
        provider.set_credential_factory(None)
        return env
    from support.azure_credentials import FakeTokenCredential

    namespace = "bf-" + uuid.uuid4().hex[:12]
    env = AzureEnv(server.subscription_id, RESOURCE_GROUP, namespace, server.base_url, server)
    env.env = {
        "AZURE_ARM_ENDPOINT": server.base_url,
        "AZURE_SUBSCRIPTION_ID": server.subscription_id,
        "AZURE_RESOURCE_GROUP": RESOURCE_GROUP,
        "AZURE_SERVICEBUS_NAMESPACE": namespace,
        "BROKERFORM_AZURE_ALLOW_HTTP": "1",
        "BROKERFORM_AZURE_CONSISTENCY_TIMEOUT": "5",
    }
    for key, value in env.env.items():
        monkeypatch.setenv(key, value)
    provider.set_credential_factory(lambda target, base_dir: FakeTokenCredential())
    return env


def stop() -> None:
    from brokerform.providers.servicebus import provider

    provider.set_credential_factory(None)


def copy_manifest(source: Path, dest_dir: Path, edit=None) -> Path:
    """Copy a manifest folder (the manifest through a YAML round trip, so `edit(data)` can change it;
    schemas and other files as they are); in live mode stop managing the namespace."""
    shutil.copytree(source.parent, dest_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".brokerform"))
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    if edit is not None:
        edit(data)
    if LIVE:
        for target in data.get("targets", {}).values():
            if target.get("type") == "azure-servicebus":
                target.setdefault("namespace_settings", {})["manage"] = False
    out = dest_dir / source.name
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return out


@pytest.fixture
def azure(server, monkeypatch, tmp_path):
    """The environment of one test; `server` (the contract server, or None live) comes from the test module."""
    monkeypatch.setenv("BROKERFORM_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    if server is not None:
        server.reset()
    env = start(monkeypatch, server)
    yield env
    stop()


def cli(*args: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from brokerform.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output
