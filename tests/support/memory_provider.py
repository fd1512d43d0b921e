"""An in-memory provider: a test double for planner and executor unit tests only.

Real providers are tested against real brokers; this one lets tests inject transient
errors, permanent failures and slow changes deterministically.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from brokerform.errors import ProviderError
from brokerform.plan.model import Action, Change
from brokerform.providers.base import Capabilities, FieldPolicy, Provider
from brokerform.resources import Address, Resource

POLICIES = {
    "queue": FieldPolicy(immutable=("arguments.*", "durable"), defaults={"durable": True}, holds_data=True),
    "exchange": FieldPolicy(immutable=("type",), defaults={"type": "direct"}),
    "binding": FieldPolicy(updatable=False),
    "policy": FieldPolicy(ignored=("server_id",)),
    "topic": FieldPolicy(
        blocked=lambda path, before, after: (
            f"partitions cannot decrease ({before} -> {after})"
            if path == "partitions" and before is not None and after is not None and int(after) < int(before)
            else None
        ),
        holds_data=True,
    ),
    "acl": FieldPolicy(updatable=False, recreate_with_dependencies=False),
}


@dataclass
class Broker:
    """The 'server' side: survives provider instances, like a real broker."""

    objects: dict[Address, Resource] = field(default_factory=dict)
    messages: dict[Address, int] = field(default_factory=dict)
    calls: list[tuple[str, Address]] = field(default_factory=list)
    fail_transient: dict[Address, int] = field(default_factory=dict)
    fail_permanent: set[Address] = field(default_factory=set)
    retry_after: float | None = None
    delay: float = 0.0
    lock_holder: str | None = None
    read_count: int = 0
    bulk_calls: int = 0
    bulk_update_calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    before_apply: Callable[[Change], None] | None = None  # e.g. an operator pressing Ctrl-C mid-apply


class MemoryProvider(Provider):
    type = "memory"

    def __init__(self, name: str, broker: Broker, *, bulk: bool = False):
        super().__init__(name, target=None)
        self.broker = broker
        self.bulk = bulk

    def capabilities(self) -> Capabilities:
        return Capabilities(bulk_create=self.bulk, bulk_update=self.bulk, bulk_threshold=2)

    def field_policy(self, kind: str) -> FieldPolicy:
        return POLICIES.get(kind, FieldPolicy())

    def read(self) -> list[Resource]:
        with self.broker.lock:
            self.broker.read_count += 1
            return [copy.deepcopy(r) for r in self.broker.objects.values()]

    def load_data_counts(self, resources: list[Resource]) -> None:
        for resource in resources:
            resource.meta["messages"] = self.broker.messages.get(resource.address, 0)

    def apply(self, change: Change) -> None:
        address = change.address
        if self.broker.before_apply:
            self.broker.before_apply(change)
        if self.broker.delay:
            time.sleep(self.broker.delay)
        with self.broker.lock:
            self.broker.calls.append((change.action.value, address))
            remaining = self.broker.fail_transient.get(address, 0)
            if remaining:
                self.broker.fail_transient[address] = remaining - 1
                raise ProviderError(f"503 Service Unavailable for {address}", transient=True,
                                    retry_after=self.broker.retry_after)
            if address in self.broker.fail_permanent:
                raise ProviderError(f"400 Bad Request: {address.name} refused by the broker")
            if change.action is Action.DELETE:
                self.broker.objects.pop(address, None)
                self.broker.messages.pop(address, None)
                for other in list(self.broker.objects.values()):  # the broker drops dependants
                    if address in other.depends_on:
                        self.broker.objects.pop(other.address, None)
            else:
                for dependency in change.desired.depends_on:
                    if dependency not in self.broker.objects:
                        raise ProviderError(f"404 {dependency} does not exist")
                stored = copy.deepcopy(change.desired)
                stored.meta = {}
                self.broker.objects[address] = stored

    def apply_bulk(self, changes: list[Change]):
        if not self.bulk:
            return None
        with self.broker.lock:
            self.broker.bulk_calls += 1
        errors = {}
        for change in changes:
            try:
                self.apply(Change(change.address, Action.CREATE, change.reason, desired=change.desired))
                errors[change.address] = None
            except ProviderError as exc:
                errors[change.address] = str(exc)
        return errors


    def apply_bulk_updates(self, changes: list[Change]):
        with self.broker.lock:
            self.broker.bulk_update_calls += 1
        errors = {}
        for change in changes:
            try:
                self.apply(change)
                errors[change.address] = None
            except ProviderError as exc:
                errors[change.address] = str(exc)
        return errors


def resource(kind: str, name: str, props: dict | None = None, deps: list[Address] | None = None,
             target: str = "mem", protect: bool = False) -> Resource:
    return Resource(Address(target, kind, "", name), dict(props or {}), list(deps or []), protect=protect)


def addr(kind: str, name: str, target: str = "mem") -> Address:
    return Address(target, kind, "", name)
