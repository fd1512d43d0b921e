"""Secrets by reference (`${env:NAME}`, `${env:NAME:-default}`, `${file:path}`) and redaction.

A resolved secret is remembered so that every output path (terminal, JSON, audit
log, reports) can scrub it with `redact`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

REFERENCE_RE = re.compile(r"\$\{(env|file):([^}:]+)(?::-([^}]*))?\}")
WHOLE_REFERENCE_RE = re.compile(r"^\$\{(env|file):([^}:]+)(?::-([^}]*))?\}$")
REDACTED = "***"
MAX_SECRET_FILE_BYTES = 1024 * 1024  # keys and passwords are a few KB; /dev/zero is not a secret

_resolved_secrets: set[str] = set()


class SecretResolutionError(ValueError):
    """A reference that cannot be resolved (unset variable, unreadable file).

    `reference` is the text as written in the manifest, so a caller can point at its line."""

    def __init__(self, message: str, reference: str | None = None):
        super().__init__(message)
        self.reference = reference


def is_reference(value: str) -> bool:
    return bool(WHOLE_REFERENCE_RE.match(value.strip()))


def _resolve_one(kind: str, name: str, default: str | None, base_dir: Path | None) -> str:
    if kind == "env":
        value = os.environ.get(name)
        if value is None:
            if default is None:
                raise SecretResolutionError(f"environment variable {name} is not set")
            return default
        return value
    path = Path(name).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SECRET_FILE_BYTES + 1)
    except OSError as exc:
        if default is not None:
            return default
        raise SecretResolutionError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_SECRET_FILE_BYTES:
        raise SecretResolutionError(f"{path} is larger than {MAX_SECRET_FILE_BYTES:,} bytes; "
                                    "a secret file holds one password, token or key")
    try:
        return raw.decode("utf-8").rstrip("\n")
    except UnicodeDecodeError:
        raise SecretResolutionError(f"{path} is not UTF-8 text") from None


def interpolate(text: str, base_dir: Path | None = None) -> str:
    """Expand every `${env:..}` / `${file:..}` reference inside a non-secret string."""
    return REFERENCE_RE.sub(lambda m: _resolve_located(m, base_dir), text)


def _resolve_located(match: re.Match, base_dir: Path | None) -> str:
    try:
        return _resolve_one(match.group(1), match.group(2), match.group(3), base_dir)
    except SecretResolutionError as exc:
        raise SecretResolutionError(str(exc), match.group(0)) from None


def resolve_secret(reference: str | None, base_dir: Path | None = None) -> str | None:
    """Resolve a secret reference and remember the value for redaction."""
    if reference is None:
        return None
    match = WHOLE_REFERENCE_RE.match(reference.strip())
    if not match:
        raise SecretResolutionError("secret fields take a reference like ${env:NAME} or ${file:path}", reference)
    value = _resolve_located(match, base_dir)
    register_secret(value)
    return value


def register_secret(value: str | None) -> None:
    if value and len(value) >= 3:
        _resolved_secrets.add(value)


_REFERENCE_DEFAULT_RE = re.compile(r"(\$\{(?:env|file):[^}:]+:-)[^}]*\}")


def redact(obj: Any) -> Any:
    """Replace every known secret value, and the defaults inside secret references, in strings, dicts and lists."""
    return _redact(obj, sorted(_resolved_secrets, key=len, reverse=True))


def dumps_redacted(obj: Any, **kwargs: Any) -> str:
    """json.dumps of redact(obj), without walking obj when no secret can be in it.

    JSON escapes character by character, so a string holding a secret serialises to text holding
    the secret's escaped form; when neither form nor a reference default is in the text, redaction
    would change nothing. The walk costs more than the encoding on a large plan."""
    text = json.dumps(obj, **kwargs)
    ensure_ascii = kwargs.get("ensure_ascii", True)
    if _REFERENCE_DEFAULT_RE.search(text) or any(
        secret in text or json.dumps(secret, ensure_ascii=ensure_ascii)[1:-1] in text for secret in _resolved_secrets
    ):
        text = json.dumps(redact(obj), **kwargs)
    return text


def _redact(obj: Any, secrets: list[str]) -> Any:
    if isinstance(obj, str):
        if "${" in obj:
            obj = _REFERENCE_DEFAULT_RE.sub(lambda m: m.group(1) + REDACTED + "}", obj)
        for secret in secrets:
            if secret in obj:
                obj = obj.replace(secret, REDACTED)
        return obj
    if isinstance(obj, dict):
        return {_redact(k, secrets): _redact(v, secrets) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_redact(v, secrets) for v in obj]
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(_redact(v, secrets) for v in obj)
    return obj
