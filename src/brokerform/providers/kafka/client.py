"""librdkafka client settings and error mapping shared by the provider, the importer and tests.

The SDK (confluent-kafka) is imported inside functions only, so importing this module is cheap.
"""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path
from typing import Any, Callable

from brokerform.errors import ProviderError
from brokerform.secrets import SecretResolutionError, resolve_secret

# Errors whose reason only librdkafka's log tells.
_CONNECTION_CODES = {"_TRANSPORT", "_ALL_BROKERS_DOWN", "_TIMED_OUT", "_AUTHENTICATION", "_SSL", "_RESOLVE"}
# librdkafka error codes worth retrying even when the error does not say `retriable`.
_TRANSIENT_CODES = {
    "_TIMED_OUT", "_TRANSPORT", "_ALL_BROKERS_DOWN", "REQUEST_TIMED_OUT", "NOT_CONTROLLER",
    "LEADER_NOT_AVAILABLE", "NETWORK_EXCEPTION", "COORDINATOR_NOT_AVAILABLE", "THROTTLING_QUOTA_EXCEEDED",
}


def client_config(
    bootstrap_servers: str,
    security_protocol: str = "PLAINTEXT",
    *,
    sasl_mechanism: str | None = None,
    sasl_username: str | None = None,
    sasl_password: str | None = None,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_pem: str | None = None,
    verify: bool = True,
    timeout_ms: int = 30_000,
) -> dict[str, Any]:
    """A librdkafka configuration dict from plain connection settings."""
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "security.protocol": security_protocol.upper(),
        "socket.timeout.ms": max(timeout_ms, 10),
        "log_level": 3,  # errors only (see ClientLogs: they are kept, not printed)
    }
    if sasl_mechanism:
        config["sasl.mechanism"] = sasl_mechanism
        config["sasl.username"] = sasl_username or ""
        config["sasl.password"] = sasl_password or ""
    if ca_file:
        config["ssl.ca.location"] = ca_file
    if cert_file:
        config["ssl.certificate.location"] = cert_file
    if key_pem:
        config["ssl.key.pem"] = key_pem
    if not verify:
        config["enable.ssl.certificate.verification"] = False
        config["ssl.endpoint.identification.algorithm"] = "none"
    return config


def _path(value: str | None, base_dir: Path | None) -> str | None:
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return str(path)


def target_client_config(target, base_dir: Path | None = None) -> dict[str, Any]:
    """The client configuration of a manifest target; secrets are resolved (and registered for redaction)."""
    sasl = target.sasl
    tls = target.tls if target.tls is not None and target.tls.enabled else None
    try:
        password = resolve_secret(sasl.password, base_dir) if sasl else None
        key_pem = resolve_secret(tls.key_file, base_dir) if tls and tls.key_file else None
    except SecretResolutionError as exc:
        raise ProviderError(f"target credentials: {exc}") from None
    for field in ("ca_file", "cert_file"):
        path = _path(getattr(tls, field), base_dir) if tls else None
        if path and not Path(path).is_file():
            raise ProviderError(f"cannot load tls.{field} {path}: no such file")
    return client_config(
        target.bootstrap_servers,
        target.security_protocol,
        sasl_mechanism=sasl.mechanism if sasl else None,
        sasl_username=sasl.username if sasl else None,
        sasl_password=password,
        ca_file=_path(tls.ca_file, base_dir) if tls else None,
        cert_file=_path(tls.cert_file, base_dir) if tls else None,
        key_pem=key_pem,
        verify=tls.verify if tls else True,
        timeout_ms=target.timeout,
    )


def kafka_error(exc: BaseException, what: str, logs: "ClientLogs | None" = None) -> ProviderError:
    """A ProviderError from a KafkaException (or any error), transient when retrying can help.

    A connection failure says only "Broker transport failure"; the reason (refused, name not
    resolved, TLS or SASL handshake) is in librdkafka's log, so its last failure line is added."""
    error = exc.args[0] if getattr(exc, "args", None) else None
    if error is not None and hasattr(error, "code") and hasattr(error, "str"):
        name = error.name() if hasattr(error, "name") else str(error.code())
        transient = bool(error.retriable()) or name in _TRANSIENT_CODES
        reason = logs.last_failure() if logs is not None and name in _CONNECTION_CODES else None
        return ProviderError(f"{what}: {error.str()} ({name})" + (f"; {reason}" if reason else ""), transient=transient)
    return ProviderError(f"{what}: {type(exc).__name__}: {exc}")


def admin_client(config: dict[str, Any], what: str = "the Kafka client") -> Any:
    """An AdminClient, its configuration errors said in the manifest's words (librdkafka's
    `ssl.ca.location failed: ... no certificate or crl found` means the CA file is not a PEM CA)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    try:
        return AdminClient(config)
    except KafkaException as exc:
        message = exc.args[0].str() if exc.args and hasattr(exc.args[0], "str") else str(exc)
        message = message.removeprefix("Failed to create admin client: ")
        if "ssl.ca.location" in message:
            message = f"cannot load the CA file {config.get('ssl.ca.location')} (tls.ca_file / --ca-file): " \
                      + message.split("failed: ", 1)[-1]
        raise ProviderError(f"cannot configure {what}: {message}") from None


class ClientLogs(logging.Handler):
    """librdkafka's log lines, kept instead of printed to stderr.

    Without a logger librdkafka prints every failed connection attempt, about 20 lines a second
    until the timeout. With one (the `logger` setting) lines wait in the client's queue until
    `poll()`; `last_failure` polls and returns the newest failure, for the error message."""

    def __init__(self, poll: Callable[[], Any] | None = None) -> None:
        super().__init__(logging.INFO)
        self.logger = logging.Logger("brokerform.librdkafka")  # not registered: one per client
        self.logger.addHandler(self)
        self.lines: deque[str] = deque(maxlen=20)
        self.poll = poll

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def last_failure(self) -> str | None:
        if self.poll is not None:
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - a detail for a message must never fail the caller
                pass
        for line in reversed(self.lines):
            if line.startswith(("FAIL", "ERROR")):
                return "librdkafka: " + line.split("]: ", 2)[-1]
        return None


def error_name(exc: BaseException) -> str | None:
    error = exc.args[0] if getattr(exc, "args", None) else None
    return error.name() if error is not None and hasattr(error, "name") else None
