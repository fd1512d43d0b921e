"""Load a manifest file or directory into a validated `Manifest` with a source map.

Steps: find files -> jinja2 render -> parse YAML with marks -> merge files ->
apply the `--env` overlay -> pydantic validation -> cross-reference checks.
Every problem found on the way is collected and raised at once as `ManifestError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brokerform.errors import Location, ManifestError, Problem
from brokerform.gcpause import gc_paused
from brokerform.manifest.merge import apply_overlay, merge_declarations
from brokerform.manifest.templating import TemplateProblem, render
from brokerform.manifest.yamlsource import SourceMap, YamlProblems, parse_yaml

YAML_SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = {"environments", "schemas", "node_modules"}
SKIPPED_FILES = {"vars.yaml", "vars.yml", ".brokerform.yaml", ".brokerform.yml"}
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass
class LoadedManifest:
    """A validated manifest plus everything needed to point back at its source."""

    manifest: Any  # brokerform.model.Manifest
    source: SourceMap
    root: Path
    files: list[Path]
    environment: str | None
    data: dict
    variables: dict[str, Any] = field(default_factory=dict)

    def locate(self, path: tuple | list, *, key: bool = False) -> Location:
        return self.source.locate(path, key=key, default=Location(self.display_root))

    @property
    def display_root(self) -> str:
        return str(self.files[0]) if self.files else str(self.root)

    @property
    def base_dir(self) -> Path:
        return self.root if self.root.is_dir() else self.root.parent


def discover_files(path: Path) -> list[Path]:
    """The YAML files that make up a manifest (a file, or a directory tree)."""
    if path.is_file():
        return [path]
    files = []
    for candidate in sorted(path.rglob("*")):
        relative = candidate.relative_to(path)
        if any(part.startswith(".") or part in SKIPPED_DIRS for part in relative.parts[:-1]):
            continue
        if candidate.name.startswith(".") or candidate.name in SKIPPED_FILES:
            continue
        if candidate.is_file() and candidate.suffix in YAML_SUFFIXES:
            files.append(candidate)
    return files


def available_environments(path: Path) -> list[str]:
    base = path if path.is_dir() else path.parent
    folder = base / "environments"
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix in YAML_SUFFIXES)


def _read_text(path: Path, problems: list[Problem]) -> str | None:
    shown = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.append(Problem(Location(shown), f"file is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB"))
            return None
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(Location(shown), f"cannot read: {exc.strerror or exc}"))
        return None
    if b"\x00" in raw:
        problems.append(Problem(Location(shown, 1, 1), "not a text file (contains NUL bytes)"))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(Location(shown, line, 1), "not valid UTF-8 text"))
        return None


def _parse_file(path: Path, context: dict[str, Any], problems: list[Problem], *, template: bool = True,
                positions: bool = False):
    text = _read_text(path, problems)
    if text is None:
        return None, None
    shown = str(path)
    if template:
        try:
            text = render(text, shown, context)
        except TemplateProblem as exc:
            problems.append(exc.problem)
            return None, None
    try:
        data, source = parse_yaml(text, shown, positions=positions)
    except YamlProblems as exc:
        problems.extend(exc.problems)
        return None, None
    if data is None:
        problems.append(Problem(Location(shown, 1, 1), "file is empty: expected a mapping with targets and channels"))
        return None, None
    if not isinstance(data, dict):
        loc = source.locate(())
        problems.append(Problem(loc, f"expected a mapping at the top of the file, got a {type(data).__name__}"))
        return None, None
    return data, source


def load_variables(path: Path, environment: str | None, overrides: dict[str, Any], problems: list[Problem]):
    """Template variables: vars.yaml < the overlay's `vars:` < --var KEY=VALUE."""
    base = path if path.is_dir() else path.parent
    variables: dict[str, Any] = {}
    overlay = overlay_src = None
    for name in ("vars.yaml", "vars.yml"):
        candidate = base / name
        if candidate.is_file():
            data, _ = _parse_file(candidate, {}, problems, template=False)
            if isinstance(data, dict):
                variables.update(data)
    if environment:
        overlay_path = next(
            (base / "environments" / f"{environment}{s}" for s in YAML_SUFFIXES
             if (base / "environments" / f"{environment}{s}").is_file()),
            None,
        )
        if overlay_path is None:
            known = ", ".join(available_environments(path)) or "none"
            problems.append(
                Problem(Location(str(base / "environments")), f"no overlay for environment {environment!r} (available: {known})")
            )
        else:
            overlay, overlay_src = _parse_file(overlay_path, {}, problems, template=False)
            if isinstance(overlay, dict) and "vars" in overlay:
                overlay_vars = overlay.pop("vars")
                if isinstance(overlay_vars, dict):
                    variables.update(overlay_vars)
                elif overlay_vars is not None:
                    where = overlay_src.locate(("vars",)) if overlay_src else Location(str(overlay_path))
                    problems.append(Problem(where, "expected a mapping of template variables", "vars"))
    variables.update(overrides)
    return variables, overlay, overlay_src


def load_raw(path: Path, environment: str | None = None, variables: dict[str, Any] | None = None, *,
             positions: bool = False):
    """Render, parse, merge and overlay: the data pydantic will validate, with its source map."""
    problems: list[Problem] = []
    if not path.exists():
        raise ManifestError([Problem(Location(str(path)), "no such file or directory")])
    files = discover_files(path)
    if not files:
        raise ManifestError([Problem(Location(str(path)), "no manifest files (*.yaml, *.yml) found")])
    values, overlay, overlay_src = load_variables(path, environment, dict(variables or {}), problems)
    context = {**values, "vars": values, "env": environment or "default", "environment": environment or "default"}
    merged: dict = {}
    source = SourceMap()
    for file in files:
        data, file_src = _parse_file(file, context, problems, positions=positions)
        if data is not None and not merged:  # the first file is the merge so far: no copying
            merged, source = data, file_src
        elif data is not None:
            merge_declarations(merged, source, data, file_src, (), problems)
    if overlay and not problems:
        apply_overlay(merged, source, overlay, overlay_src)
    if problems:
        raise ManifestError(problems)
    return merged, source, files, values


@gc_paused
def load_manifest(
    path: str | Path, environment: str | None = None, variables: dict[str, Any] | None = None, *,
    positions: bool = False,
) -> LoadedManifest:
    """Load and validate a manifest; raise ManifestError listing every problem.

    `positions`: record every key's and value's location while parsing, for callers that will
    point at many of them (lint, reports); otherwise they are recorded on first use."""
    from brokerform.manifest.validation import check_references, validate_model

    path = Path(path)
    merged, source, files, values = load_raw(path, environment, variables, positions=positions)
    base_dir = path if path.is_dir() else path.parent
    manifest = validate_model(merged, source, base_dir)
    loaded = LoadedManifest(manifest, source, path, files, environment, merged, values)
    problems = check_references(loaded)
    if problems:
        raise ManifestError(problems)
    return loaded
