"""Effective lint configuration: defaults < .brokerform.yaml files < the manifest's `lint:`.

Base settings of every layer apply first, then the `environments.<env>` overrides of every
layer, so an environment override always beats a base setting. Unknown rule ids and
options are located errors, so a typo never silently turns a rule off.
"""

from __future__ import annotations

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
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
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
        return {**rule.options, **self.options.get(rule.id, {})}


def find_config_files(manifest_path: Path) -> list[Path]:
    """`.brokerform.yaml` files from the git root (or filesystem root) down to the manifest's folder."""
    start = manifest_path if manifest_path.is_dir() else manifest_path.parent
    start = start.resolve()
    found: list[Path] = []
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                found.append(candidate)
                break
        if (folder / ".git").exists():
            break
    return list(reversed(found))


def load_config_file(path: Path) -> ConfigLayer | None:
    """Parse `.brokerform.yaml`; its `lint:` key holds the same settings as the manifest's."""
    from brokerform.manifest.yamlsource import YamlProblems, parse_yaml

    shown = str(path)
    try:
        data, source = parse_yaml(path.read_text(encoding="utf-8"), shown)
    except YamlProblems as exc:
        raise ManifestError(exc.problems) from None
    except OSError as exc:
        raise ManifestError([Problem(Location(shown), f"cannot read: {exc.strerror or exc}")]) from None
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ManifestError([Problem(source.locate(()), "expected a mapping with a `lint:` key")])

    def locate(p: tuple) -> Location:
        return source.locate(p, key=True, default=Location(shown, 1, 1))

    raw = data.get("lint") or {}
    try:
        settings = LintConfig.model_validate(raw)
    except ValidationError as exc:
        from brokerform.manifest.validation import problem_from_error

        # Worded like the manifest's own `lint:` block (did-you-mean for misspelt keys): the
        # errors are placed under `lint` of a manifest-shaped document.
        problems = [problem_from_error({**err, "loc": ("lint",) + tuple(err["loc"])}, {"lint": raw}, source)
                    for err in exc.errors()]
        raise ManifestError(problems) from None
    return ConfigLayer(settings, locate, ("lint",), shown)


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

    for index, token in enumerate(settings.disable):
        if (rid := rule_id(token, prefix + ("disable", index))) is not None:
            config.enabled[rid] = False
    for index, token in enumerate(settings.enable):
        if (rid := rule_id(token, prefix + ("enable", index))) is not None:
            config.enabled[rid] = True
            if config.severity.get(rid) == "off":
                del config.severity[rid]
    for token, level in settings.severity.items():
        if (rid := rule_id(token, prefix + ("severity", token))) is not None:
            config.severity[rid] = level
    rules = rules_by_id()
    for token, values in settings.options.items():
        path = prefix + ("options", token)
        rid = rule_id(token, path)
        if rid is None:
            continue
        defaults = rules[rid].options
        for key, value in values.items():
            where = path + (key,)
            if key not in defaults:
                known = ", ".join(sorted(defaults)) or "none"
                problems.append(Problem(layer.locate(where), f"{rid} has no option {key!r} (options: {known})", format_path(where)))
            elif not _same_kind(defaults[key], value):
                problems.append(Problem(layer.locate(where),
                                        f"{rid} option {key!r} expects a {_kind(defaults[key])}, got {value!r}",
                                        format_path(where)))
            else:
                config.options.setdefault(rid, {})[key] = value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "list"
    return "string"


def _same_kind(default: Any, value: Any) -> bool:
    # String defaults are sizes/durations with units ("256KiB", "30s"); a bare number is fine there too.
    if _kind(default) == "string" and _kind(value) == "number":
        return True
    return _kind(default) == _kind(value)
