"""Effective lint configuration: defaults < .brokerform.yaml files < the manifest's `lint:`.

Base settings of every layer apply first, then the `environments.<env>` overrides of every
layer, so an environment override always beats a base setting. Unknown keys, rule ids and
options, and option values a rule cannot use, are located errors found before any rule
runs, so a typo never silently turns a rule off nor surfaces later as a crashed rule.
"""

from __future__ import annotations

import difflib
import errno
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from brokerform.errors import Location, ManifestError, Problem, format_path
from brokerform.lint.context import DEFAULT_DEVELOPMENT, DEFAULT_PRODUCTION
from brokerform.lint.model import Rule
from brokerform.lint.registry import resolve_rule_id, rules_by_id
from brokerform.model.lintconfig import LintConfig, LintRuleSettings

CONFIG_NAMES = (".brokerform.yaml", ".brokerform.yml")
CONFIG_KEYS = ("lint",)  # the top-level keys of .brokerform.yaml
Locate = Callable[[tuple], Location]


@dataclass
class ConfigLayer:
    settings: LintConfig
    locate: Locate
    prefix: tuple
    origin: str


@dataclass
class EffectiveConfig:
    enabled: dict[str, bool] = field(default_factory=dict)
    severity: dict[str, str] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # canonical values (bytes, ms)
    production: tuple[str, ...] = DEFAULT_PRODUCTION
    development: tuple[str, ...] = DEFAULT_DEVELOPMENT
    sources: list[str] = field(default_factory=list)

    def is_enabled(self, rule: type[Rule]) -> bool:
        if self.severity.get(rule.id) == "off":
            return False
        return self.enabled.get(rule.id, rule.enabled_by_default)

    def severity_of(self, rule: type[Rule]) -> str | None:
        """The configured severity, or None to keep the rule's (or the issue's) own."""
        value = self.severity.get(rule.id)
        return None if value in (None, "off") else value

    def options_of(self, rule: type[Rule]) -> dict[str, Any]:
        """Every option of the rule as its canonical value: the default unless configured."""
        defaults = {name: spec.default_value for name, spec in rule.option_specs().items()}
        return {**defaults, **self.options.get(rule.id, {})}


def find_config_files(manifest_path: Path) -> list[Path]:
    """`.brokerform.yaml` files from the git root (or filesystem root) down to the manifest's folder.

    Anything at that name counts, a directory or a broken symlink too: loading it then says
    what is wrong, rather than the settings being silently left out.
    """
    start = manifest_path if manifest_path.is_dir() else manifest_path.parent
    start = start.resolve()
    found: list[Path] = []
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if os.path.lexists(candidate):
                found.append(candidate)
                break
        if (folder / ".git").exists():
            break
    return list(reversed(found))


def _shown(path: Path) -> str:
    """Relative to the current directory when inside it, as the manifest's own files are shown."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _not_a_file(path: Path) -> str | None:
    """Why `path` cannot be a configuration file (a directory, a broken symlink), or None."""
    try:
        if path.is_dir():
            return "is a directory, not a lint configuration file"
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symlink loop, not a lint configuration file"
        if exc.errno == errno.ENOENT and path.is_symlink():
            return f"is a broken symlink: its target {os.readlink(path)!r} does not exist"
    return None


def load_config_file(path: Path) -> ConfigLayer | None:
    """Parse `.brokerform.yaml`; its `lint:` key holds the same settings as the manifest's."""
    from brokerform.manifest.loader import _read_text
    from brokerform.manifest.yamlsource import YamlProblems, parse_yaml

    shown = _shown(path)
    reason = _not_a_file(path)
    if reason is not None:
        raise ManifestError([Problem(Location(shown), reason)])
    problems: list[Problem] = []
    text = _read_text(path, problems)  # the manifest's wording: not valid UTF-8 text, cannot read: ...
    if text is None:
        raise ManifestError([Problem(p.location._replace(file=shown), p.message, p.path) for p in problems])
    try:
        data, source = parse_yaml(text, shown)
    except YamlProblems as exc:
        raise ManifestError(exc.problems) from None
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ManifestError([Problem(source.locate(()), "expected a mapping with a `lint:` key")])

    def locate(p: tuple) -> Location:
        return source.locate(p, key=True, default=Location(shown, 1, 1))

    problems = [Problem(locate((key,)), _unknown_key(key), format_path((key,)))
                for key in data if key not in CONFIG_KEYS]
    raw = data.get("lint") or {}
    try:
        settings = LintConfig.model_validate(raw)
    except ValidationError as exc:
        from brokerform.manifest.validation import problem_from_error

        # Worded like the manifest's own `lint:` block (did-you-mean for misspelt keys): the
        # errors are placed under `lint` of a manifest-shaped document.
        problems += [problem_from_error({**err, "loc": ("lint",) + tuple(err["loc"])}, {"lint": raw}, source)
                     for err in exc.errors()]
    if problems:
        raise ManifestError(problems)
    return ConfigLayer(settings, locate, ("lint",), shown)


def _unknown_key(key: Any) -> str:
    message = f"unknown field {str(key)!r}"
    if key in LintConfig.model_fields:
        return f"{message}; lint settings go under `lint:` (lint.{key})"
    close = difflib.get_close_matches(str(key), CONFIG_KEYS, n=1, cutoff=0.6)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    return f"{message}; expected one of: {', '.join(CONFIG_KEYS)}"


def build_config(loaded: Any, environment: str | None, extra_files: list[Path] | None = None) -> EffectiveConfig:
    """Merge every configuration layer into the settings the engine applies."""
    layers: list[ConfigLayer] = []
    files = extra_files if extra_files is not None else find_config_files(Path(loaded.root))
    for path in files:
        layer = load_config_file(path)
        if layer is not None:
            layers.append(layer)
    layers.append(
        ConfigLayer(loaded.manifest.lint, lambda p: loaded.locate(p, key=True), ("lint",), "manifest")
    )
    problems: list[Problem] = []
    config = EffectiveConfig(sources=[layer.origin for layer in layers])
    for layer in layers:
        _apply(config, layer.settings, layer, layer.prefix, problems)
        if layer.settings.production_environments is not None:
            config.production = tuple(e.lower() for e in layer.settings.production_environments)
        if layer.settings.development_environments is not None:
            config.development = tuple(e.lower() for e in layer.settings.development_environments)
    for layer in layers:
        for env_name, overrides in layer.settings.environments.items():
            if environment is not None and env_name == environment:
                _apply(config, overrides, layer, layer.prefix + ("environments", env_name), problems)
            else:
                _apply(EffectiveConfig(), overrides, layer, layer.prefix + ("environments", env_name), problems)
    if problems:
        raise ManifestError(problems)
    return config


def _apply(config: EffectiveConfig, settings: LintRuleSettings, layer: ConfigLayer, prefix: tuple,
           problems: list[Problem]) -> None:
    """Apply one settings block; also validates it (blocks for other environments are only checked)."""

    def rule_id(token: str, path: tuple) -> str | None:
        resolved = resolve_rule_id(token)
        if resolved is None:
            problems.append(Problem(layer.locate(path), f"unknown lint rule {token!r}", format_path(path)))
        return resolved

    disabled: dict[str, int] = {}
    enabled_here: dict[str, int] = {}
    for index, token in enumerate(settings.disable):
        if (rid := rule_id(token, prefix + ("disable", index))) is not None:
            config.enabled[rid] = False
            disabled.setdefault(rid, index)
    for index, token in enumerate(settings.enable):
        where = prefix + ("enable", index)
        if (rid := rule_id(token, where)) is None:
            continue
        if rid in disabled:
            other = format_path(prefix + ("disable", disabled[rid]))
            problems.append(Problem(layer.locate(where), f"{rid} is also disabled here ({other}): "
                                    "a rule is either enabled or disabled; remove one", format_path(where)))
            continue
        config.enabled[rid] = True
        enabled_here.setdefault(rid, index)
        if config.severity.get(rid) == "off":
            del config.severity[rid]
    for token, level in settings.severity.items():
        where = prefix + ("severity", token)
        if (rid := rule_id(token, where)) is not None:
            if level == "off" and rid in enabled_here:
                other = format_path(prefix + ("enable", enabled_here[rid]))
                problems.append(Problem(layer.locate(where), f"{rid} is enabled here ({other}) and set to off: "
                                        "remove one", format_path(where)))
                continue
            config.severity[rid] = level
    rules = rules_by_id()
    for token, values in settings.options.items():
        path = prefix + ("options", token)
        rid = rule_id(token, path)
        if rid is None:
            continue
        specs = rules[rid].option_specs()
        for key, value in values.items():
            where = path + (key,)
            spec = specs.get(key)
            if spec is None:
                close = difflib.get_close_matches(str(key), list(specs), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else f" (options: {', '.join(sorted(specs)) or 'none'})"
                problems.append(Problem(layer.locate(where), f"{rid} has no option {key!r}{hint}", format_path(where)))
                continue
            try:
                config.options.setdefault(rid, {})[key] = spec.value(value)
            except ValueError as exc:  # the option's own wording: "expected a size like 256KiB..., got ..."
                at = where + tuple(getattr(exc, "at", ()))
                problems.append(Problem(layer.locate(at), str(exc), format_path(at)))
