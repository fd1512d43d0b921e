"""Append-only audit log: one JSON line per apply, secrets redacted."""

from __future__ import annotations

import datetime as _dt
import getpass
import os
import subprocess
from pathlib import Path
from typing import Any

from brokerform.secrets import dumps_redacted


def git_commit(folder: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def current_user() -> str:
    try:
        return os.environ.get("GITHUB_ACTOR") or getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        return "unknown"


def append_audit(path: Path, record: dict[str, Any]) -> None:
    record = {"time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), **record}
    path.parent.mkdir(parents=True, exist_ok=True)
    line = dumps_redacted(record, sort_keys=True, default=str)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
