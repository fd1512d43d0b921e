"""A small client for the RabbitMQ management HTTP API (httpx, one keep-alive connection pool).

Every vhost and object name is percent-encoded as one path segment (`/` -> %2F, spaces,
non-ASCII), which generic clients get wrong. Errors become `ProviderError`: connection
problems, timeouts and 5xx are transient (retried by the executor), 4xx are permanent
and carry the broker's reason.
"""

from __future__ import annotations

import contextlib
import json as json_module
import os
import ssl
import tempfile
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import httpx

from brokerform.errors import ProviderError
from brokerform.secrets import WHOLE_REFERENCE_RE, resolve_secret


def seg(value: str) -> str:
    """One URL path segment: every reserved character encoded, `/` included."""
    return quote(value, safe="")


class NotFound(ProviderError):
    """The object does not exist (404)."""


class RabbitClient:
    def __init__(self, url: str, username: str, password: str | None, *, timeout_s: float = 30.0,
                 verify: ssl.SSLContext | bool = True, server_name: str | None = None, max_connections: int = 16):
        self.base_url = url.rstrip("/")
        self.server_name = server_name
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=(username, password or ""),
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            verify=verify,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"content-type": "application/json"},  # an Accept header makes 3.10 answer 406 on vhost-limits
        )

    def close(self) -> None:
        self._http.close()

    # -- requests ------------------------------------------------------------------
    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
                content: bytes | None = None, timeout: float | None = None) -> httpx.Response:
        extensions = {"sni_hostname": self.server_name} if self.server_name else None
        kwargs: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
        try:
            response = self._http.request(method, path, json=json, params=params, content=content,
                                          extensions=extensions, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderError(f"RabbitMQ management API at {self.base_url} timed out ({method} {path}): {exc}",
                                transient=True) from None
        except httpx.ConnectError as exc:
            raise ProviderError(_connect_message(self.base_url, exc), transient=not _is_tls_error(exc)) from None
        except httpx.TransportError as exc:
            raise ProviderError(f"cannot talk to RabbitMQ at {self.base_url}: {exc}", transient=True) from None
        if response.status_code >= 400:
            raise _http_error(method, path, response, self.base_url)
        return response

    def get(self, path: str, params: dict | None = None) -> Any:
        response = self.request("GET", path, params=params)
        return self.parse(response.content, "GET", path)

    def parse(self, content: bytes, method: str, path: str) -> Any:
        """A response body as JSON; anything else means the URL is not the management API."""
        if not content:
            return None
        try:
            return json_module.loads(content)
        except ValueError:
            raise ProviderError(not_management_api(self.base_url, method, path, content)) from None

    def get_or_none(self, path: str, params: dict | None = None) -> Any:
        try:
            return self.get(path, params)
        except NotFound:
            return None

    def put(self, path: str, body: Any) -> None:
        self.request("PUT", path, json=body)

    def post(self, path: str, body: Any) -> None:
        self.request("POST", path, json=body)

    def delete(self, path: str, body: Any = None) -> None:
        """Idempotent delete: a missing object is success."""
        try:
            self.request("DELETE", path, json=body)
        except NotFound:
            pass


def _is_tls_error(exc: Exception) -> bool:
    text = f"{exc} {exc.__cause__ or ''} {exc.__context__ or ''}".lower()
    return "certificate" in text or "ssl" in text or "tls" in text


def _connect_message(url: str, exc: Exception) -> str:
    if _is_tls_error(exc):
        return (f"TLS handshake with {url} failed: {exc}. Check targets.<name>.tls.ca_file (the CA that signed "
                f"the server certificate) and tls.server_name")
    return f"cannot connect to RabbitMQ at {url}: {exc} (is the management plugin listening there?)"


def not_management_api(base_url: str, method: str, path: str, content: bytes, status: int = 200) -> str:
    start = content[:60].decode("utf-8", "replace").strip().replace("\n", " ")
    return (f"{base_url} answered {method} {path} (HTTP {status}) with something other than the RabbitMQ "
            f"management API's JSON ({start!r}...): is url the management plugin's address, e.g. "
            "http://HOST:15672?")


def _http_error(method: str, path: str, response: httpx.Response, base_url: str = "") -> ProviderError:
    reason = response.text.strip()
    body = None
    try:
        body = response.json()
        reason = body.get("reason") or body.get("error") or reason
    except (ValueError, AttributeError):
        pass
    status = response.status_code
    if status == 404 and not isinstance(body, dict):  # the management API answers a missing object in JSON
        return ProviderError(not_management_api(base_url, method, path, response.content, status))
    if status == 404 or (status == 400 and "vhost_not_found" in str(reason)):
        return NotFound(f"{method} {path}: not found ({reason})")
    if status == 401:
        return ProviderError(_unauthorised(method, path, str(reason)))
    if status == 403:
        return ProviderError(f"{method} {path}: forbidden (403): the user lacks a tag or permission: {reason}")
    return ProviderError(f"{method} {path}: HTTP {status}: {reason}", transient=status >= 500 or status == 429)


# -- TLS -------------------------------------------------------------------------------
def ssl_verify(url: str, tls, base_dir: Path | None) -> ssl.SSLContext | bool:
    """An SSLContext from the target's tls block (CA, client certificate, minimum version).

    Plain http needs none (and skipping httpx's default context saves half a second of start-up).
    """
    if not url.lower().startswith("https:"):
        return False
    context = ssl.create_default_context()
    if tls is None or not tls.enabled:
        return context
    if tls.ca_file:
        ca = _path(tls.ca_file, base_dir)
        try:
            context.load_verify_locations(cafile=str(ca))
        except (OSError, ssl.SSLError) as exc:
            raise ProviderError(f"cannot load tls.ca_file {ca}: {exc}") from None
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.min_version:
        context.minimum_version = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
                                   "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[tls.min_version]
    if tls.cert_file:
        with _key_path(tls.key_file, base_dir) as key:
            try:
                context.load_cert_chain(str(_path(tls.cert_file, base_dir)), keyfile=key)
            except (OSError, ssl.SSLError) as exc:
                raise ProviderError(f"cannot load the client certificate tls.cert_file: {exc}") from None
    return context


def _path(value: str, base_dir: Path | None) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() or base_dir is None else base_dir / path


@contextlib.contextmanager
def _key_path(reference: str | None, base_dir: Path | None) -> Iterator[str | None]:
    """The client key as a file path: `${file:..}` directly, PEM text from `${env:..}` via a 0600 temp file."""
    if reference is None:
        yield None
        return
    match = WHOLE_REFERENCE_RE.match(reference.strip())
    if match and match.group(1) == "file":
        yield str(_path(match.group(2), base_dir))
        return
    value = resolve_secret(reference, base_dir) or ""
    if "-----BEGIN" not in value:
        yield str(_path(value, base_dir))
        return
    fd, name = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        yield name
    finally:
        os.unlink(name)


def _unauthorised(method: str, path: str, reason: str) -> str:
    """RabbitMQ answers 401 both for a wrong password and for a user whose tags do not allow the
    call; its reason tells them apart, and the fix differs."""
    where = f"RabbitMQ refused {method} {path} (401"
    if reason == "Not management user":
        return (f"{where}: the user has no management tag): give it the administrator tag "
                "(brokerform reads and writes definitions)")
    if reason == "Not administrator user":
        return (f"{where}: the user is not an administrator): definitions export and import need the "
                "administrator tag")
    if reason.rstrip(".") == "Access refused":
        return (f"{where}: access refused): the user has no permissions in this vhost (a wrong password is "
                "'Login failed'); grant it configure, write and read permissions there, e.g. "
                "rabbitmqctl set_permissions -p VHOST USER '.*' '.*' '.*'")
    return f"{where}: {reason}): check username/password"
