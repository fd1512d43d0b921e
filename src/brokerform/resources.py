"""Native resources: what compile produces from the manifest and what providers read live.

Both sides use the same shape, so the planner compares like with like: an address
and a flat-able dict of normalised properties.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Address(NamedTuple):
    """Identity of a native resource: (target, kind, scope, name).

    A NamedTuple: hashing, equality and ordering run in C, which matters at 10,000s of resources.
    """

    target: str
    kind: str
    scope: str
    name: str

    def __str__(self) -> str:
        return f"{self.target}.{self.kind}[{self.name!r}]" if not self.scope else (
            f"{self.target}.{self.kind}[{self.scope}/{self.name}]"
        )

    def to_dict(self) -> dict[str, str]:
        return {"target": self.target, "kind": self.kind, "scope": self.scope, "name": self.name}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> "Address":
        return cls(data["target"], data["kind"], data.get("scope", ""), data["name"])


@dataclass(slots=True)
class Resource:
    """One native object with the properties brokerform manages.

    `depends_on`: addresses that must exist first (and are re-created with it when replaced).
    `source`: manifest path of the declaration, to locate errors and lint findings.
    `meta`: live-only facts (message counts, ids) that never take part in a diff.
    """

    address: Address
    properties: dict[str, Any] = field(default_factory=dict)
    depends_on: list[Address] = field(default_factory=list)
    source: tuple = ()
    protect: bool = False
    channel: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address.to_dict(),
            "properties": self.properties,
            "depends_on": [a.to_dict() for a in self.depends_on],
            "source": list(self.source),
            "protect": self.protect,
            "channel": self.channel,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Resource":
        return cls(
            address=Address.from_dict(data["address"]),
            properties=data.get("properties", {}),
            depends_on=[Address.from_dict(a) for a in data.get("depends_on", [])],
            source=tuple(data.get("source", ())),
            protect=data.get("protect", False),
            channel=data.get("channel"),
        )


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def fingerprint(resources: list[Resource] | dict[Address, Resource]) -> str:
    """A stable hash of resources' identities and properties (not meta), in one JSON encoding pass."""
    items = resources.values() if isinstance(resources, dict) else resources
    payload = [[list(r.address), r.properties] for r in sorted(items, key=lambda r: r.address)]
    return "sha256:" + hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def flatten(properties: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become dotted keys; lists and scalars are leaves."""
    out: dict[str, Any] = {}
    for key, value in properties.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, path + "."))
        elif isinstance(value, dict):
            continue
        else:
            out[path] = value
    return out
