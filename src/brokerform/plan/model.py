"""A plan is data: ordered changes with per-attribute before -> after, rendered elsewhere.

The JSON form (`Plan.to_dict`) is versioned and documented in docs/plan-format.md.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from brokerform.resources import Address, Resource

PLAN_FORMAT_VERSION = 1


class Deferred:
    """A fingerprint computed on first use: hashing 20,000 resources is only needed when a plan
    is saved, rendered as JSON or compared with a saved one, not for every `plan` on screen."""

    __slots__ = ("_compute", "_value")
    _compute: Callable[[], str] | None
    _value: str | None

    def __init__(self, value: str | Callable[[], str] | None = None):
        self.set(value)

    def set(self, value: str | Callable[[], str] | None) -> None:
        self._compute, self._value = (value, None) if callable(value) else (None, value)

    def get(self) -> str | None:
        if self._compute is not None:
            self._value, self._compute = self._compute(), None
        return self._value


class Action(str, Enum):
    NOOP = "noop"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    BLOCKED = "blocked"


class Reason(str, Enum):
    NEW = "new"
    REMOVED = "removed from manifest"
    DRIFT = "drift"
    IMMUTABLE = "immutable property"
    DEPENDENCY_REPLACED = "dependency replaced"
    PROTECTED = "protected"
    IMPOSSIBLE = "impossible change"
    MISSING_SECRET = "secret cannot be resolved"
    IN_SYNC = "in sync"


@dataclass(slots=True)
class AttributeChange:
    path: str
    before: Any
    after: Any
    forces_replace: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after, "forces_replace": self.forces_replace}


@dataclass(slots=True)
class Change:
    address: Address
    action: Action
    reason: Reason
    attributes: list[AttributeChange] = field(default_factory=list)
    desired: Resource | None = None
    live: Resource | None = None
    destructive: bool = False
    messages: int | None = None
    depends_on: list[Address] = field(default_factory=list)
    blocked_reason: str | None = None
    refused: str | None = None
    note: str | None = None

    @property
    def forces_replace(self) -> list[str]:
        return [a.path for a in self.attributes if a.forces_replace]

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address.to_dict(),
            "id": str(self.address),
            "action": self.action.value,
            "reason": self.reason.value,
            "attributes": [a.to_dict() for a in self.attributes],
            "forces_replace": self.forces_replace,
            "destructive": self.destructive,
            "messages": self.messages,
            "depends_on": [a.to_dict() for a in self.depends_on],
            "blocked_reason": self.blocked_reason,
            "refused": self.refused,
            "note": self.note,
            "desired": self.desired.to_dict() if self.desired else None,
            "live": self.live.to_dict() if self.live else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Change":
        return cls(
            address=Address.from_dict(data["address"]),
            action=Action(data["action"]),
            reason=Reason(data["reason"]),
            attributes=[AttributeChange(**a) for a in data.get("attributes", [])],
            desired=Resource.from_dict(data["desired"]) if data.get("desired") else None,
            live=Resource.from_dict(data["live"]) if data.get("live") else None,
            destructive=data.get("destructive", False),
            messages=data.get("messages"),
            depends_on=[Address.from_dict(a) for a in data.get("depends_on", [])],
            blocked_reason=data.get("blocked_reason"),
            refused=data.get("refused"),
            note=data.get("note"),
        )


@dataclass
class TargetPlan:
    target: str
    type: str
    changes: list[Change] = field(default_factory=list)
    unmanaged: list[Address] = field(default_factory=list)
    error: str | None = None
    _live_fingerprint: Deferred = field(default_factory=Deferred, repr=False, compare=False)
    _desired_fingerprint: Deferred = field(default_factory=Deferred, repr=False, compare=False)

    @property
    def live_fingerprint(self) -> str | None:
        return self._live_fingerprint.get()

    @live_fingerprint.setter
    def live_fingerprint(self, value: str | Callable[[], str] | None) -> None:
        self._live_fingerprint.set(value)

    @property
    def desired_fingerprint(self) -> str | None:
        return self._desired_fingerprint.get()

    @desired_fingerprint.setter
    def desired_fingerprint(self, value: str | Callable[[], str] | None) -> None:
        self._desired_fingerprint.set(value)

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action is not Action.NOOP]

    @property
    def blocked(self) -> list[Change]:
        return [c for c in self.changes if c.action is Action.BLOCKED]

    @property
    def refused(self) -> list[Change]:
        return [c for c in self.changes if c.refused]

    def counts(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "type": self.type,
            "error": self.error,
            "live_fingerprint": self.live_fingerprint,
            "desired_fingerprint": self.desired_fingerprint,
            "summary": self.counts(),
            "changes": [c.to_dict() for c in self.changes],
            "unmanaged": [a.to_dict() for a in self.unmanaged],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TargetPlan":
        plan = cls(
            target=data["target"],
            type=data["type"],
            changes=[Change.from_dict(c) for c in data.get("changes", [])],
            unmanaged=[Address.from_dict(a) for a in data.get("unmanaged", [])],
            error=data.get("error"),
        )
        plan.live_fingerprint = data.get("live_fingerprint")
        plan.desired_fingerprint = data.get("desired_fingerprint")
        return plan


@dataclass
class PlanOptions:
    allow_replace: bool = False
    allow_data_loss: bool = False
    prune: bool = False

    def to_dict(self) -> dict[str, bool]:
        return {"allow_replace": self.allow_replace, "allow_data_loss": self.allow_data_loss, "prune": self.prune}


@dataclass
class Plan:
    targets: list[TargetPlan]
    manifest_path: str = ""
    environment: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    options: PlanOptions = field(default_factory=PlanOptions)
    created_at: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    _manifest_fingerprint: Deferred = field(default_factory=Deferred, repr=False, compare=False)

    @property
    def manifest_fingerprint(self) -> str:
        return self._manifest_fingerprint.get() or ""

    @manifest_fingerprint.setter
    def manifest_fingerprint(self, value: str | Callable[[], str]) -> None:
        self._manifest_fingerprint.set(value)

    @property
    def has_changes(self) -> bool:
        return any(t.pending for t in self.targets)

    def settle_fingerprints(self) -> None:
        """Compute deferred fingerprints now, before an apply changes what they describe."""
        self._manifest_fingerprint.get()
        for target in self.targets:
            target._live_fingerprint.get()
            target._desired_fingerprint.get()

    @property
    def has_errors(self) -> bool:
        return any(t.error or t.blocked for t in self.targets)

    def summary(self) -> dict[str, int]:
        total = {a.value: 0 for a in Action}
        for target in self.targets:
            for key, value in target.counts().items():
                total[key] += value
        return total

    def summary_line(self) -> str:
        s = self.summary()
        line = (
            f"Plan: {s['create']} to create, {s['update']} to update, {s['replace']} to replace, "
            f"{s['delete']} to delete."
        )
        if s["blocked"]:
            line += f" {s['blocked']} blocked."
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "created_at": self.created_at,
            "manifest": {
                "path": self.manifest_path,
                "environment": self.environment,
                "variables": self.variables,
                "fingerprint": self.manifest_fingerprint,
            },
            "options": self.options.to_dict(),
            "summary": self.summary(),
            "has_changes": self.has_changes,
            "has_errors": self.has_errors,
            "targets": [t.to_dict() for t in self.targets],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Plan":
        if data.get("format_version") != PLAN_FORMAT_VERSION:
            raise ValueError(f"unsupported plan format_version {data.get('format_version')!r}")
        manifest = data["manifest"]  # a saved plan always names its manifest and targets
        plan = cls(
            targets=[TargetPlan.from_dict(t) for t in data["targets"]],
            manifest_path=manifest["path"],
            environment=manifest.get("environment"),
            variables=manifest.get("variables", {}),
            options=PlanOptions(**data.get("options", {})),
            created_at=data.get("created_at", ""),
        )
        plan.manifest_fingerprint = manifest.get("fingerprint", "")
        return plan
