"""Paths as code-scanning tools want them: relative to the repository root, with forward slashes.

File names are bytes on POSIX: one that is not valid UTF-8 reaches Python with surrogate
escapes, which no UTF-8 output can hold. `printable` shows such bytes as `\\xff`, and
`artifact_uri` percent-encodes the name's bytes, so every format stays well-formed.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote


def repo_root(start: Path) -> Path:
    """The nearest folder with a .git above `start`, else the current directory."""
    start = start.resolve()
    for folder in (start if start.is_dir() else start.parent, *start.parents):
        if (folder / ".git").exists():
            return folder
    return Path.cwd().resolve()


def printable(text: str) -> str:
    """`text` that encodes as UTF-8: undecodable file-name bytes become `\\xNN`, other lone surrogates `\\udNNN`."""
    if text.isascii():
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def relative_path(file: str, root: Path) -> str | None:
    """`file` relative to `root` with forward slashes, or None when it is outside `root`."""
    try:
        return Path(file).resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def artifact_uri(file: str, root: Path) -> tuple[str, bool]:
    """A URI reference for `file` (`#`, `%`, spaces and non-UTF-8 bytes percent-encoded) and whether
    it is relative to `root`; outside `root` it is an absolute `file://` URI."""
    relative = relative_path(file, root)
    if relative is None:
        return Path(file).resolve().as_uri(), False
    return quote(os.fsencode(relative), safe="/"), True


def annotation_path(file: str, root: Path) -> str:
    """A path for GitHub workflow annotations: repository-relative, else an absolute `file://` URI."""
    relative = relative_path(file, root)
    return printable(relative) if relative is not None else Path(file).resolve().as_uri()


def display_path(file: str) -> str:
    """Relative to the current directory when inside it (what editors and terminals link best)."""
    path = Path(file)
    try:
        shown = path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        shown = file
    return printable(shown)
