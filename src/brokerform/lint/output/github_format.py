"""GitHub Actions workflow commands: one `::error file=...,line=...::message` per finding."""

from __future__ import annotations

from pathlib import Path

from brokerform.lint.output.paths import annotation_path, printable, repo_root

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result, *, manifest_path: Path | None = None, **_: object) -> str:
    root = repo_root(manifest_path or Path.cwd())
    lines = []
    for f in result.findings:
        props = [f"file={_escape_property(annotation_path(f.file, root))}"]
        if f.line:
            props += [f"line={f.line}", f"col={f.column or 1}"]
        props.append(f"title={_escape_property(f.rule_id + ' ' + f.rule_name)}")
        lines.append(f"::{LEVELS[f.severity]} {','.join(props)}::{_escape_data(printable(f.message))}")
    return "\n".join(lines) + ("\n" if lines else "")
