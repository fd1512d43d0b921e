"""Distinct identifiers for distinct names.

Exports and diagrams squeeze names into identifier alphabets (AsyncAPI keys, Mermaid and DOT
ids, HTML anchors, Python variables): `orders:created`, `orders/created` and `orders created`
all become `orders_created`. Used naively, the second one silently overwrites the first. An
`Identifiers` table gives each owner (a channel, a target, a resource address) its own
identifier: the sanitised name, or the sanitised name with `_2`, `_3`, ... when it is taken.
"""

from __future__ import annotations

from typing import Callable, Hashable, Iterable


class Identifiers:
    """One namespace of identifiers; the same owner always gets the same identifier back."""

    def __init__(self, sanitize: Callable[[str], str] = str, *, separator: str = "_",
                 reserved: Iterable[str] = ()) -> None:
        self._sanitize = sanitize
        self._separator = separator
        self._ids: dict[Hashable, str] = {}
        self._taken: set[str] = set(reserved)

    def prefer_exact(self, owners: Iterable[tuple[Hashable, str]]) -> None:
        """Give every owner whose name is already a valid identifier that very identifier, before
        sanitised look-alikes claim it (`orders_created` keeps its key; `orders:created` gets `_2`)."""
        for owner, name in owners:
            if owner not in self._ids and name not in self._taken and self._sanitize(name) == name:
                self._ids[owner] = name
                self._taken.add(name)

    def __call__(self, owner: Hashable, name: str | None = None) -> str:
        """The identifier of `owner`, made from `name` (default: the owner itself, a string)."""
        existing = self._ids.get(owner)
        if existing is not None:
            return existing
        stem = self._sanitize(str(owner) if name is None else name)
        candidate, number = stem, 2
        while candidate in self._taken:
            candidate, number = f"{stem}{self._separator}{number}", number + 1
        self._ids[owner] = candidate
        self._taken.add(candidate)
        return candidate

    def __contains__(self, owner: Hashable) -> bool:
        return owner in self._ids

    def get(self, owner: Hashable) -> str | None:
        return self._ids.get(owner)
