"""Fake Azure credentials for tests (no Entra ID round trip).

``FakeTokenCredential`` implements both azure-core credential protocols:

* ``TokenCredential.get_token(*scopes, claims=None, tenant_id=None, enable_cae=False, **kwargs)``
  returning ``azure.core.credentials.AccessToken``;
* ``SupportsTokenInfo.get_token_info(*scopes, options=None)`` returning
  ``azure.core.credentials.AccessTokenInfo`` (azure-core >= 1.31 prefers this one).

Every call is recorded in ``calls`` as ``(method_name, scopes)`` so tests can
assert the scope the SDK asked for (``https://management.azure.com/.default``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

try:
    from azure.core.credentials import AccessToken, AccessTokenInfo
except ImportError:  # pragma: no cover - azure extra not installed
    AccessToken = None  # type: ignore[assignment,misc]
    AccessTokenInfo = None  # type: ignore[assignment,misc]

__all__ = ["FakeTokenCredential"]


class FakeTokenCredential:
    """A credential that hands out a static bearer token valid for ``lifetime`` seconds."""

    def __init__(self, token: str = "fake-arm-token", lifetime: int = 3600):
        if AccessToken is None:  # pragma: no cover
            raise RuntimeError("azure-core is required for FakeTokenCredential (pip install 'brokerform[azure]')")
        self.token = token
        self.lifetime = lifetime
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self._lock = threading.Lock()

    def _record(self, method: str, scopes: tuple[str, ...]) -> int:
        with self._lock:
            self.calls.append((method, tuple(scopes)))
        return int(time.time()) + self.lifetime

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> "AccessToken":
        expires_on = self._record("get_token", scopes)
        return AccessToken(self.token, expires_on)

    def get_token_info(self, *scopes: str, options: dict[str, Any] | None = None) -> "AccessTokenInfo":
        expires_on = self._record("get_token_info", scopes)
        return AccessTokenInfo(self.token, expires_on, token_type="Bearer", refresh_on=None)

    # context-manager / close support, like the azure-identity credentials
    def close(self) -> None:
        return None

    def __enter__(self) -> "FakeTokenCredential":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
