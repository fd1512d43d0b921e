"""Paths as code-scanning tools want them: relative to the repository root, with forward slashes."""

from __future__ import annotations

from pathlib import Path


def repo_root(start: Path) -> Path:
    """The nearest folder with a .git above `start`, else the current directory."""
    start = start.resolve()
    for folder in (start if start.is_dir() else start.parent, *start.parents):
        if (folder / ".git").exists():
            return folder
    return Path.cwd().resolve()


def relative_uri(file: str, root: Path) -> str:
    path = Path(file).resolve()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_uri()


def display_path(file: str) -> str:
    """Relative to the current directory when inside it (what editors and terminals link best)."""
    path = Path(file)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return file
