"""A first look at a manifest's target settings, taken before the manifest is loaded.

`plan` uses it to start each target's live read while the manifest is still being parsed,
validated and compiled (at 10,000 queues those take as long as the broker's export). The
result is only a hint and is never trusted: the plan keeps an early read only when the fully
loaded target reads from exactly the same place (`Provider.read_key`), otherwise it reads again.

The scan walks YAML events and stops early: it keeps each target's small settings (scalars
and collections of up to SMALL_VALUE_NODES nodes), skips large collections (queues, topics)
and gives up after SCAN_BUDGET_EVENTS events. Any problem means "no hint", never an error:
the real loader reports problems with their locations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from brokerform.errors import Problem
from brokerform.manifest.loader import _read_text, discover_files, load_variables
from brokerform.manifest.merge import apply_overlay
from brokerform.manifest.templating import TemplateProblem, needs_rendering, render
from brokerform.manifest.yamlsource import SourceMap, _StrictLoader, _Walker

SCAN_BUDGET_EVENTS = 1_000
SMALL_VALUE_NODES = 200
MAX_TEMPLATED_BYTES = 256 * 1024  # rendering a big template twice would cost more than it saves


class _Stop(Exception):
    """The scan budget is spent."""


class _Unusable(Exception):
    """A value the scan does not reproduce (aliases, merge keys)."""


class _EventReader:
    def __init__(self, text: str, filename: str):
        self.loader = _StrictLoader(text)
        self.walker = _Walker(filename, self.loader)
        self.left = SCAN_BUDGET_EVENTS

    def next(self) -> yaml.Event:
        self.left -= 1
        if self.left < 0:
            raise _Stop
        return self.loader.get_event()

    def value(self, first: yaml.Event, limit: int) -> tuple[Any, bool]:
        """The node that starts with `first`, built while it has at most `limit` nodes (else skipped)."""
        budget = [limit]
        try:
            return self._build(first, budget), True
        except _Unusable:
            self._skip_rest(first, budget)
            return None, False

    def _build(self, event: yaml.Event, budget: list[int]) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or isinstance(event, yaml.AliasEvent):
            raise _Unusable
        if isinstance(event, yaml.ScalarEvent):
            tag = event.tag if event.tag not in (None, "!") else self.loader.resolve(
                yaml.ScalarNode, event.value, event.implicit)
            marks: tuple[Any, Any] = (event.start_mark, event.end_mark)  # C or Python marks: both work
            node = yaml.ScalarNode(tag, event.value, *marks, style=event.style)
            return self.walker._scalar(node, ())
        if isinstance(event, yaml.SequenceStartEvent):
            items = []
            while not isinstance(child := self.next(), yaml.SequenceEndEvent):
                items.append(self._build_or_skip(child, budget))
            return items
        if isinstance(event, yaml.MappingStartEvent):
            mapping: dict = {}
            while not isinstance(key := self.next(), yaml.MappingEndEvent):
                name = self._build_or_skip(key, budget)
                if not isinstance(name, (str, int)) or name == "<<":
                    raise _Unusable
                mapping[name] = self._build_or_skip(self.next(), budget)
            return mapping
        raise _Unusable

    def _build_or_skip(self, event: yaml.Event, budget: list[int]) -> Any:
        try:
            return self._build(event, budget)
        except _Unusable:
            self._skip_rest(event, budget)
            raise

    def _skip_rest(self, event: yaml.Event, budget: list[int]) -> None:
        """Consume the rest of a collection whose start was already read (if it was one)."""
        depth = 1 if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)) else 0
        while depth:
            current = self.next()
            if isinstance(current, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
            elif isinstance(current, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1

    def skip(self, first: yaml.Event) -> None:
        self._skip_rest(first, [0])


def scan_targets(text: str, filename: str) -> dict[str, dict[str, Any]]:
    """`targets.<name>.<setting>` of one YAML text, small settings only."""
    reader = _EventReader(text, filename)
    found: dict[str, dict[str, Any]] = {}
    try:
        for expected in (yaml.StreamStartEvent, yaml.DocumentStartEvent, yaml.MappingStartEvent):
            if not isinstance(reader.next(), expected):
                return found
        while isinstance(key := reader.next(), yaml.ScalarEvent):
            value = reader.next()
            if key.value != "targets" or not isinstance(value, yaml.MappingStartEvent):
                reader.skip(value)
                continue
            while isinstance(name := reader.next(), yaml.ScalarEvent):
                start = reader.next()
                if not isinstance(start, yaml.MappingStartEvent):
                    reader.skip(start)
                    continue
                settings = found.setdefault(name.value, {})
                while isinstance(setting := reader.next(), yaml.ScalarEvent):
                    built, ok = reader.value(reader.next(), SMALL_VALUE_NODES)
                    if ok:
                        settings[setting.value] = built
            return found
    except (_Stop, _Unusable, yaml.YAMLError):
        pass
    finally:
        reader.loader.dispose()
    return found


def target_hints(path: Path, environment: str | None, variables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target's small settings across the manifest's files, with the environment overlay applied."""
    try:
        return _target_hints(path, environment, variables)
    except Exception:  # noqa: BLE001 - a hint is optional; the real loader reports every problem
        return {}


def _target_hints(path: Path, environment: str | None, variables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    problems: list[Problem] = []
    if not path.exists():
        return {}
    values, overlay, _ = load_variables(path, environment, dict(variables), problems)
    if problems:
        return {}
    context = {**values, "vars": values, "env": environment or "default", "environment": environment or "default"}
    hints: dict[str, dict[str, Any]] = {}
    for file in discover_files(path):
        text = _read_text(file, problems)
        if text is None or problems:
            return {}
        if len(text) > MAX_TEMPLATED_BYTES and needs_rendering(text):
            continue
        try:
            text = render(text, str(file), context)
        except TemplateProblem:
            return {}
        for name, settings in scan_targets(text, str(file)).items():
            hints.setdefault(name, {}).update(settings)
    if isinstance(overlay, dict) and isinstance(overlay.get("targets"), dict):
        for name, settings in overlay["targets"].items():
            if name in hints and isinstance(settings, dict):
                apply_overlay(hints[name], SourceMap(), settings, SourceMap())
    return hints
