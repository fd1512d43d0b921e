"""Decision history: the git commits that changed the manifest's files (bounded)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from brokerform.report.model import HistoryEntry

MAX_COMMITS = 20
_SEP = "\x1f"


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False)


def manifest_history(paths: list[Path], cwd: Path, limit: int = MAX_COMMITS) -> tuple[list[HistoryEntry] | None, str]:
    """Commits touching `paths`, newest first; (None, why) when there is no git history."""
    if shutil.which("git") is None:
        return None, "git is not installed"
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    if top.returncode != 0:
        return None, "the manifest is not in a git repository"
    files = [str(p.resolve()) for p in paths if p.exists()]
    if not files:
        return [], ""
    args = ["log", f"-n{limit}", "--date=short", f"--format=%h{_SEP}%ad{_SEP}%an{_SEP}%s"]
    if len(files) == 1:
        args.append("--follow")  # follows renames; git supports it for one path only
    out = _git([*args, "--", *files], cwd)
    if out.returncode != 0:
        return None, f"git log failed: {out.stderr.strip()[:200]}"
    entries = []
    for line in out.stdout.splitlines():
        parts = line.split(_SEP)
        if len(parts) == 4:
            entries.append(HistoryEntry(commit=parts[0], date=parts[1], author=parts[2], subject=parts[3]))
    note = "" if entries else "no commits touch these files yet"
    return entries, note


def manifest_related_files(loaded) -> list[Path]:
    """The manifest files, its environment overlays, vars.yaml and the contract schemas."""
    base = loaded.base_dir
    files = list(loaded.files)
    for folder in (base / "environments",):
        if folder.is_dir():
            files.extend(sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml")))
    for name in ("vars.yaml", "vars.yml"):
        if (base / name).is_file():
            files.append(base / name)
    for channel in loaded.manifest.channels.values():
        if channel.contract and channel.contract.schema_file:
            files.append(base / channel.contract.schema_file)
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique
