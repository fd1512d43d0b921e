"""Start each target's live read before the manifest is fully loaded.

A no-change plan of a large topology is the broker's export plus brokerform's own work
(parse, validate, compile, diff); run one after the other they cost about twice the export.
`start_prefetch` takes each target's settings from a quick scan of the manifest
(`manifest/prescan.py`), opens a provider on them and runs its `fetch()` in a background
thread, so the broker works while brokerform parses. `build_plan` keeps such a result only
when the loaded target's provider has the same `read_key()` (same endpoint, credentials and
scope); otherwise it is dropped and the provider reads again. Plans taken under an apply lock
never use early reads: their read must come after the lock.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Hashable

from brokerform.providers.base import Provider


@dataclass
class _Early:
    key: Hashable
    provider: Provider
    result: Future = field(default_factory=Future)


class Prefetch:
    """Early reads by target name; `take` hands one over, `close` releases the rest."""

    def __init__(self) -> None:
        self._early: dict[str, _Early] = {}

    def __len__(self) -> int:
        return len(self._early)

    def start(self, name: str, provider: Provider, key: Hashable) -> None:
        early = _Early(key, provider)
        self._early[name] = early

        def run() -> None:
            try:
                early.result.set_result(provider.fetch())
            except BaseException as exc:  # noqa: BLE001 - handed to the plan, which reports it
                early.result.set_exception(exc)

        # A daemon thread, not a pool: a manifest error must not wait for a slow broker to exit.
        threading.Thread(target=run, name=f"brokerform-prefetch-{name}", daemon=True).start()

    def take(self, name: str, provider: Provider) -> Any | None:
        """The early read for this target if it read from where `provider` reads, else None."""
        early = self._early.pop(name, None)
        if early is None:
            return None
        try:
            if early.key != provider.read_key():
                return None
            return early.result.result()  # a failed early read fails the target like its own read would
        finally:
            _close_when_done(early)

    def close(self) -> None:
        for early in self._early.values():
            _close_when_done(early)
        self._early.clear()


def _close_when_done(early: _Early) -> None:
    def close(_: Future) -> None:
        try:
            early.provider.close()
        except Exception:  # noqa: BLE001 - closing a hint's connection never matters
            pass

    early.result.add_done_callback(close)


def start_prefetch(path: str | Path, environment: str | None = None, variables: dict[str, Any] | None = None,
                   only: list[str] | None = None) -> Prefetch:
    """Early reads for every target whose settings the quick scan finds and validates; never raises."""
    prefetch = Prefetch()
    try:
        _start(prefetch, Path(path), environment, dict(variables or {}), only)
    except Exception:  # noqa: BLE001 - an optimisation must never turn into an error
        pass
    return prefetch


def _start(prefetch: Prefetch, path: Path, environment: str | None, variables: dict[str, Any],
           only: list[str] | None) -> None:
    from brokerform.manifest.prescan import target_hints
    from brokerform.model import Manifest
    from brokerform.providers import get_provider

    base_dir = path if path.is_dir() else path.parent
    for name, settings in target_hints(path, environment, variables).items():
        if only and name not in only:
            continue
        try:
            target = _validated_target(Manifest, name, settings, base_dir)
            provider = get_provider(name, target, base_dir)
        except Exception:  # noqa: BLE001 - an incomplete hint: this target reads after loading
            continue
        try:
            key = provider.read_key()
        except Exception:  # noqa: BLE001
            key = None
        if key is None:
            provider.close()
            continue
        prefetch.start(name, provider, key)


def _validated_target(manifest_model: Any, name: str, settings: dict[str, Any], base_dir: Path) -> Any:
    """The hint as the loader's own model would validate it. Declarations with mistakes (which
    the loader reports later) are dropped once, so a typo in a queue does not cost the early read."""
    from pydantic import ValidationError

    def validate(data: dict[str, Any]) -> Any:
        return manifest_model.model_validate({"targets": {name: data}}, context={"base_dir": base_dir}).targets[name]

    try:
        return validate(settings)
    except ValidationError as exc:  # locations: ("targets", name, <type tag>, key, ...)
        faulty = {loc[3] for loc in (e["loc"] for e in exc.errors()) if len(loc) > 3 and loc[3] in settings}
        if not faulty:
            raise
        return validate({k: v for k, v in settings.items() if k not in faulty})
