"""How each target type reaches its broker, to tell whether traffic is encrypted."""

from __future__ import annotations

from urllib.parse import urlparse

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def plaintext_reason(target) -> tuple[str, str] | None:
    """(field, why) when the target talks to its broker without TLS, else None."""
    if target.tls is not None and not target.tls.enabled:
        return "tls", "tls.enabled is false"
    if target.type == "rabbitmq":
        if urlparse(target.url).scheme == "http" and target.tls is None:
            return "url", "the management API URL is http://"
        if target.amqp_url and urlparse(target.amqp_url).scheme == "amqp" and target.tls is None:
            return "amqp_url", "the AMQP URL is amqp:// (not amqps://)"
        return None
    if target.type == "kafka":
        if target.security_protocol.upper() in ("PLAINTEXT", "SASL_PLAINTEXT"):
            return "security_protocol", f"security_protocol is {target.security_protocol}"
        return None
    endpoint = target.endpoint if target.type == "azure-servicebus" else target.endpoint_url
    if endpoint and urlparse(endpoint).scheme == "http":
        return ("endpoint" if target.type == "azure-servicebus" else "endpoint_url"), "the endpoint is http://"
    return None


def is_local(target) -> bool:
    """Does the target point at this machine (a local dev broker)?"""
    for attr in ("url", "amqp_url", "endpoint", "endpoint_url"):
        value = getattr(target, attr, None)
        if value and (urlparse(value).hostname or "") in LOCAL_HOSTS:
            return True
    servers = getattr(target, "bootstrap_servers", None)
    if servers:
        hosts = [s.strip().rsplit(":", 1)[0].strip("[]") for s in servers.split(",") if s.strip()]
        return bool(hosts) and all(h in LOCAL_HOSTS for h in hosts)
    return False
