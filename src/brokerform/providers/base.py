"""The provider interface: the only thing a broker integration implements.

A provider reads the live resources inside its target's ownership scope, tells the
planner how to compare them (the field policy per kind), and applies one change at a
time (or a batch, where the broker has a bulk API). Everything else — diffing, safety,
ordering, retries, locking, reporting — is provider-neutral.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterator

from brokerform.errors import ProviderError
from brokerform.resources import Address, Resource

if TYPE_CHECKING:
    from brokerform.plan.model import Change


@dataclass
class Capabilities:
    bulk_create: bool = False
    bulk_update: bool = False
    bulk_threshold: int = 20
    broker_lock: str = "local file lock"
    max_parallelism: int = 16
    notes: list[str] = field(default_factory=list)


@dataclass
class FieldPolicy:
    """How the planner compares one kind of resource.

    immutable: flat property paths (fnmatch patterns) whose change forces a REPLACE.
    ignored: server-managed paths never compared.
    defaults: the broker's effective default per path; an undeclared property equals it.
    managed: live paths compared even when the manifest omits them (so removing a
      property returns it to the default); others present only live are ignored.
    blocked: (path, before, after) -> reason when a change is impossible (BLOCKED).
    updatable: False when the kind has no update call (any change is a replace).
    recreate_with_dependencies: re-create this resource when something it depends on is replaced.
    holds_data: whether resources of this kind can hold messages.
    """

    immutable: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    managed: tuple[str, ...] = ("*",)
    blocked: Callable[[str, Any, Any], str | None] | None = None
    updatable: bool = True
    recreate_with_dependencies: bool = True
    holds_data: bool = False
    normalise: Callable[[str, Any], Any] | None = None

    def is_immutable(self, path: str) -> bool:
        return not self.updatable or _matches(path, self.immutable)

    def is_ignored(self, path: str) -> bool:
        return _matches(path, self.ignored)

    def is_managed(self, path: str) -> bool:
        return _matches(path, self.managed) and not self.is_ignored(path)


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(path, pattern) for pattern in patterns)


class Provider(ABC):
    """Base class of every broker provider. Subclasses set `type` and implement the abstract methods."""

    type: str = ""

    def __init__(self, name: str, target: Any, base_dir: Path | None = None):
        self.name = name
        self.target = target
        self.base_dir = base_dir

    # -- description ---------------------------------------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities()

    @abstractmethod
    def field_policy(self, kind: str) -> FieldPolicy:
        """The comparison rules for one resource kind."""

    # -- live state ------------------------------------------------------------
    @abstractmethod
    def read(self) -> list[Resource]:
        """Every live resource inside the ownership scope, in as few API calls as possible."""

    # Optional: let `plan` start the bulk of read() before the manifest is fully loaded.
    # A provider that implements these also accepts `read(fetched)` with fetch()'s result.
    def read_key(self) -> Hashable | None:
        """Where and what fetch() reads (endpoint, credentials, scope); None: no early reads."""
        return None

    def fetch(self) -> Any:
        """The part of read() that does not depend on the manifest's declarations (thread-safe)."""
        raise NotImplementedError

    def load_data_counts(self, resources: list[Resource]) -> None:
        """Fill `meta['messages']` for resources a plan would delete or replace (optional)."""

    def holds_data(self, resource: Resource) -> bool:
        """Whether deleting this live resource would lose messages."""
        if not self.field_policy(resource.address.kind).holds_data:
            return False
        messages = resource.meta.get("messages")
        return messages is None or messages > 0

    # -- changes ----------------------------------------------------------------
    @abstractmethod
    def apply(self, change: "Change") -> None:
        """Perform one idempotent change; raise ProviderError (transient=True to retry)."""

    def apply_bulk(self, changes: list["Change"]) -> dict[Address, str | None] | None:
        """Create many resources at once; return per-address errors (None = ok), or None if unsupported."""
        return None

    def apply_bulk_updates(self, changes: list["Change"]) -> dict[Address, str | None] | None:
        """Update many resources in place at once (Capabilities.bulk_update); like apply_bulk."""
        return None

    def plan_checks(self, changes: list["Change"], desired: dict[Address, Resource], live: dict[Address, Resource]) -> None:
        """Provider-specific plan adjustments (e.g. tier limits); may mark changes BLOCKED.

        `changes` are the ones not in sync (creates, updates, replaces, prune deletes): in-sync
        resources, nearly all of a large plan, are never passed."""

    @contextlib.contextmanager
    def lock(self, owner: str, timeout_s: float) -> Iterator[None]:
        """Exclusive apply lock; the default is a file lock on this machine."""
        with local_file_lock(f"{self.type}:{self.lock_key()}", owner, timeout_s):
            yield

    def lock_key(self) -> str:
        return self.name

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> "Provider":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@contextlib.contextmanager
def local_file_lock(key: str, owner: str, timeout_s: float) -> Iterator[None]:
    folder = Path(os.environ.get("BROKERFORM_LOCK_DIR", Path.home() / ".cache" / "brokerform" / "locks"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".lock")
    deadline = time.monotonic() + timeout_s
    with open(path, "a+") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another brokerform process"
                    raise ProviderError(
                        f"timed out after {timeout_s:g}s waiting for the apply lock on {key} (held by {holder})"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(owner)
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
