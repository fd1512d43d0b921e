"""What a rule sees: the loaded manifest, its options, the environment, and helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterator

DEFAULT_PRODUCTION = ("prod", "production", "prd", "live")
DEFAULT_DEVELOPMENT = ("dev", "development", "local", "test", "ci", "sandbox")


@dataclass
class LintContext:
    loaded: Any  # brokerform.manifest.loader.LoadedManifest
    environment: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    production: tuple[str, ...] = DEFAULT_PRODUCTION
    development: tuple[str, ...] = DEFAULT_DEVELOPMENT
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def manifest(self) -> Any:
        return self.loaded.manifest

    def with_options(self, options: dict[str, Any]) -> "LintContext":
        return replace(self, options=options)

    # -- walking the manifest -------------------------------------------------------
    def targets(self, *types: str) -> Iterator[tuple[str, Any]]:
        for name, target in self.manifest.targets.items():
            if not types or target.type in types:
                yield name, target

    def channels(self, *types: str) -> Iterator[tuple[str, Any, Any]]:
        """(name, channel, target) for channels whose target is of one of `types` (any if none)."""
        for name, channel in self.manifest.channels.items():
            target = self.manifest.targets.get(channel.target)
            if target is not None and (not types or target.type in types):
                yield name, channel, target

    # -- environments ---------------------------------------------------------------
    def environment_of(self, target: Any = None) -> str | None:
        """The `--env` given, else the target's declared `environment`."""
        if self.environment:
            return self.environment
        return getattr(target, "environment", None) if target is not None else None

    def is_production(self, target: Any = None) -> bool:
        env = self.environment_of(target)
        return env is not None and env.lower() in self.production

    def is_development(self, target: Any = None) -> bool:
        env = self.environment_of(target)
        return env is not None and env.lower() in self.development

    def by_environment(self, target: Any, *, prod: str, dev: str, other: str) -> str:
        """Pick a severity for the environment the target runs in."""
        if self.is_production(target):
            return prod
        if self.is_development(target):
            return dev
        return other

    # -- compiled native resources (optional: compile modules may still be partial) --
    def compiled(self) -> dict[str, Any]:
        """DesiredTarget per target, or {} when the manifest cannot be compiled yet."""
        if "compiled" not in self._cache:
            try:
                from brokerform.compile import compile_manifest

                self._cache["compiled"] = compile_manifest(self.loaded)
            except Exception:  # noqa: BLE001 - lint works on the manifest alone when compile cannot
                self._cache["compiled"] = {}
        return self._cache["compiled"]


def matches(pattern: str, name: str) -> bool:
    """Does a RabbitMQ policy pattern (a regex, searched) match a name? Bad regexes never match."""
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return False


def channel_consumers(channel: Any) -> list[str]:
    consumers = list(channel.consumers)
    for sub in channel.subscriptions.values():
        consumers.extend(sub.consumers)
    return consumers
