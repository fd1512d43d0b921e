"""Secrets by reference (`${env:NAME}`, `${env:NAME:-default}`, `${file:path}`) and redaction.

A resolved secret is remembered so that every output path (terminal, JSON, audit
log, reports) can scrub it with `redact`.
"""

from __future__ import annotations

import functools
import json
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterator

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
    if not value:
        # an unset CI secret often arrives as an empty variable: never create a user without a password
        raise SecretResolutionError("resolves to an empty value; a secret needs one (is it set where this runs?)",
                                    reference)
    register_secret(value)
    return value


def unresolvable_secret_references(model: Any, base_dir: Path | None = None) -> list[tuple[tuple, SecretResolutionError]]:
    """Every secret reference in a target that cannot be resolved (or resolves to nothing), with its
    path inside the target. Non-secret strings were interpolated when the manifest loaded, so a
    whole reference still in the model is a secret field; free-form values (a shovel's `dest-uri`)
    may embed references too."""
    problems = []
    for path, reference in references_in(model, ()):
        try:
            resolve_secret(reference, base_dir)
        except SecretResolutionError as exc:
            problems.append((path, exc))
    return problems


def references_in(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        if "${" in value:
            yield from ((path, match.group(0)) for match in REFERENCE_RE.finditer(value))
    elif (fields := getattr(type(value), "model_fields", None)) is not None:  # a pydantic model
        for name, info in fields.items():
            yield from references_in(getattr(value, name), path + (info.alias or name,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from references_in(item, path + (key,))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from references_in(item, path + (index,))


def resolve_embedded(value: Any, base_dir: Path | None = None) -> Any:
    """`value` with every reference inside its strings resolved, each resolved part remembered for
    redaction: what a free-form broker setting (a shovel URI with its password) is sent as."""
    if isinstance(value, str):
        if "${" not in value:
            return value
        return REFERENCE_RE.sub(lambda m: _in_place(value, m, resolve_secret(m.group(0), base_dir) or ""), value)
    if isinstance(value, dict):
        return {key: resolve_embedded(item, base_dir) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_embedded(item, base_dir) for item in value]
    return value


_IN_USERINFO_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@]*$")


def _in_place(text: str, match: re.Match, value: str) -> str:
    """A value resolved into a URL's user:password is percent-encoded: a password holding `@`, `/`
    or `:` would otherwise end the userinfo early (a broken URI, and half a secret in its host)."""
    if _IN_USERINFO_RE.search(text, 0, match.start()):
        return urllib.parse.quote(value, safe="")
    return value


def register_secret(value: str | None) -> None:
    if value and len(value) >= 3 and value not in _resolved_secrets:
        _resolved_secrets.add(value)
        _secret_pattern.cache_clear()
        _name_pattern.cache_clear()


_NAME_CHAR = r"[A-Za-z0-9_\-]"
_BEFORE_NAME = r"(?<![A-Za-z0-9_.\-])"
_AFTER_NAME = r"(?![A-Za-z0-9_\-]|\.[A-Za-z0-9_])"  # `guest.orders` continues a name, `guest.` ends a sentence
WORD_LIKE_SECRET = re.compile(r"[A-Za-z0-9_.\-]{1,15}")
"""A secret that could also be part of a name (`guest`, `federation`, `orders-2024`) is redacted only
where it stands alone; a longer or punctuated one (anything random) is redacted wherever it stands."""
_URL_PASSWORD_RE = re.compile(r"(?<![A-Za-z0-9+.\-])([A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:]*):([^\s/@]+)@")
"""`scheme://user:password@`, the one place brokerform finds a URL's password. The lookbehind starts
a match only at a scheme's first character, so long dotted text is scanned once."""


def replace_url_passwords(text: str, new: Callable[[str], str | None], count: int = 0) -> str:
    """`text` with each URL password replaced by `new(password)`; None drops it with its colon."""
    def replaced(match: re.Match) -> str:
        password = new(match.group(2))
        return f"{match.group(1)}@" if password is None else f"{match.group(1)}:{password}@"

    return _URL_PASSWORD_RE.sub(replaced, text, count=count) if "@" in text else text


def url_password_as_reference(url: str, prefix: str) -> str:
    """`url` with its password written as `${env:<PREFIX>_PASSWORD}`: what `import` puts in a manifest,
    which lands in git (a reference already there stays)."""
    variable = re.sub(r"[^A-Za-z0-9]+", "_", f"{prefix}_password").strip("_").upper()
    return replace_url_passwords(url, lambda p: p if p.startswith("${") else f"${{env:{variable}}}", count=1)


def _redacted_url_password(password: str) -> str:
    """Any URL's password, a literal one included, never reaches output; a `${env:...}` reference in
    its place is shown: it is what the manifest says."""
    return password if password.startswith("${") else REDACTED


@functools.lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern[str] | None:
    """The secrets that could never be a name someone chose (random, long or punctuated): only
    these are redacted inside names and addresses, which must stay what they are."""
    secrets = [s for s in _resolved_secrets if WORD_LIKE_SECRET.fullmatch(s) is None]
    return re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True))) if secrets else None


def redact_name(text: str) -> str:
    """A name or address as printed: a password equal to a queue's name must not rename the queue
    (`orders` and `guest` would both become `***`, and a saved plan's addresses would no longer
    match), so only URL passwords and secrets no one would choose as a name are replaced."""
    pattern = _name_pattern()
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    return replace_url_passwords(text, _redacted_url_password)


@functools.lru_cache(maxsize=1)
def _secret_pattern() -> re.Pattern[str] | None:
    """One alternation of every known secret, longest first, in the forms output may hold it (as
    is, JSON-escaped, URL-encoded). A word-like secret is replaced only where it is not part of a
    longer name: a password `guest` must not turn the queue `guest-notifications` into
    `***-notifications` (breaking JSON plans, and telling every reader what the password is)."""
    if not _resolved_secrets:
        return None
    forms = {form: secret for secret in _resolved_secrets
             for form in (secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe=""))}
    alternatives = []
    for form in sorted(forms, key=len, reverse=True):
        word_like = WORD_LIKE_SECRET.fullmatch(forms[form]) is not None
        before = _BEFORE_NAME if word_like and re.match(_NAME_CHAR, form[0]) else ""
        after = _AFTER_NAME if word_like and re.match(_NAME_CHAR, form[-1]) else ""
        alternatives.append(before + re.escape(form) + after)
    return re.compile("|".join(alternatives))


_REFERENCE_DEFAULT_RE = re.compile(r"(\$\{(?:env|file):[^}:]+:-)[^}]*\}")


def redact(obj: Any) -> Any:
    """Replace every known secret value, URL passwords and the defaults inside secret references,
    in strings, dicts and lists."""
    return _redact(obj, _secret_pattern())


def dumps_redacted(obj: Any, names: frozenset[str] = frozenset(), **kwargs: Any) -> str:
    """json.dumps of redact(obj), without walking obj when no secret can be in it.

    JSON escapes character by character, so a string holding a secret serialises to text holding
    the secret's escaped form; when neither form nor a reference default is in the text, redaction
    would change nothing. The walk costs more than the encoding on a large plan."""
    text = json.dumps(obj, **kwargs)
    ensure_ascii = kwargs.get("ensure_ascii", True)
    if _REFERENCE_DEFAULT_RE.search(text) or ("@" in text and any(not m.group(2).startswith("${") for m in _URL_PASSWORD_RE.finditer(text))) or any(
        secret in text or json.dumps(secret, ensure_ascii=ensure_ascii)[1:-1] in text for secret in _resolved_secrets
    ):
        text = json.dumps(_redact(obj, _secret_pattern(), names), **kwargs)
    return text


def _redact(obj: Any, secrets: re.Pattern[str] | None, names: frozenset[str] = frozenset()) -> Any:
    """`names`: keys whose values are names and addresses (redacted with `redact_name`)."""
    if isinstance(obj, str):
        if "${" in obj:
            obj = _REFERENCE_DEFAULT_RE.sub(lambda m: m.group(1) + REDACTED + "}", obj)
        if secrets is not None:  # first: a known password with an `@` in it is one secret, not a URL's end
            obj = secrets.sub(REDACTED, obj)
        return replace_url_passwords(obj, _redacted_url_password)
    if isinstance(obj, dict):
        return {_redact(k, secrets, names): _names_redacted(v) if k in names else _redact(v, secrets, names)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_redact(v, secrets, names) for v in obj]
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(_redact(v, secrets, names) for v in obj)
    return obj


def _names_redacted(obj: Any) -> Any:
    if isinstance(obj, str):
        return redact_name(obj)
    if isinstance(obj, dict):
        return {k: _names_redacted(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_names_redacted(v) for v in obj]
    return obj
