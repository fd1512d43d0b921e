"""Client quotas over the Kafka protocol: DescribeClientQuotas (v0) and AlterClientQuotas (v0).

confluent-kafka's AdminClient has no client-quota call, so this small client speaks the two
requests itself, with the same connection settings as the AdminClient (plaintext or TLS;
SASL PLAIN or SCRAM-SHA-256/512). Brokers forward the requests to the KRaft controller.

Entities are dicts {"user": name, "client-id": name}. A default entity (KIP-546: name null on the
wire, match type DEFAULT) is named `<default>` here, as kafka-configs.sh prints it, so that
(default user, client-id X) and (client-id X) stay two entities.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct
import tempfile
import time
from typing import Any

from brokerform.errors import ProviderError

API_SASL_HANDSHAKE, API_SASL_AUTHENTICATE = 17, 36
API_DESCRIBE_CLIENT_QUOTAS, API_ALTER_CLIENT_QUOTAS = 48, 49
QUOTA_KEYS = ("producer_byte_rate", "consumer_byte_rate", "request_percentage", "controller_mutation_rate")
ENTITY_TYPES = {"user": "user", "client-id": "client_id"}
DEFAULT_ENTITY = "<default>"
MATCH_EXACT, MATCH_DEFAULT, MATCH_SPECIFIED = 0, 1, 2  # KIP-546 filter match types


def _wire_name(name: str | None) -> str | None:
    """The protocol's name for an entity: null for the default entity."""
    return None if name is None or name == DEFAULT_ENTITY else name


def _entity_name(name: str | None) -> str:
    return DEFAULT_ENTITY if name is None else name


class _Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def int8(self, v: int) -> "_Writer":
        self.parts.append(struct.pack(">b", v))
        return self

    def int16(self, v: int) -> "_Writer":
        self.parts.append(struct.pack(">h", v))
        return self

    def int32(self, v: int) -> "_Writer":
        self.parts.append(struct.pack(">i", v))
        return self

    def float64(self, v: float) -> "_Writer":
        self.parts.append(struct.pack(">d", v))
        return self

    def string(self, v: str | None) -> "_Writer":
        if v is None:
            return self.int16(-1)
        data = v.encode()
        self.int16(len(data))
        self.parts.append(data)
        return self

    def bytes_(self, v: bytes) -> "_Writer":
        self.int32(len(v))
        self.parts.append(v)
        return self

    def done(self) -> bytes:
        return b"".join(self.parts)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def _take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def int8(self) -> int:
        return self._take(">b")

    def int16(self) -> int:
        return self._take(">h")

    def int32(self) -> int:
        return self._take(">i")

    def int64(self) -> int:
        return self._take(">q")

    def float64(self) -> float:
        return self._take(">d")

    def string(self) -> str | None:
        length = self.int16()
        if length < 0:
            return None
        value = self.data[self.pos:self.pos + length].decode()
        self.pos += length
        return value

    def bytes_(self) -> bytes:
        length = self.int32()
        value = self.data[self.pos:self.pos + max(length, 0)]
        self.pos += max(length, 0)
        return value


class QuotaClient:
    """One connection to one broker of the cluster, authenticated like the AdminClient."""

    def __init__(self, config: dict[str, Any], timeout: float = 30.0):
        self.config = config
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.correlation = 0

    # -- connection --------------------------------------------------------------------
    def __enter__(self) -> "QuotaClient":
        self.connect()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def connect(self) -> None:
        protocol = str(self.config.get("security.protocol", "PLAINTEXT")).upper()
        errors = []
        for server in str(self.config["bootstrap.servers"]).split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                sock = socket.create_connection((host.strip("[]"), int(port)), timeout=self.timeout)
                self.sock = self._tls(sock, host) if protocol in ("SSL", "SASL_SSL") else sock
                break
            except (OSError, ValueError) as exc:
                errors.append(f"{server}: {exc}")
        if self.sock is None:
            raise ProviderError(f"client quotas: cannot connect to {', '.join(errors)}", transient=True)
        if protocol.startswith("SASL"):
            self._authenticate(str(self.config.get("sasl.mechanism", "PLAIN")).upper())

    def _tls(self, sock: socket.socket, host: str) -> ssl.SSLSocket:
        context = ssl.create_default_context(cafile=self.config.get("ssl.ca.location"))
        certificate = self.config.get("ssl.certificate.location")
        if certificate and self.config.get("ssl.key.location"):
            context.load_cert_chain(certificate, self.config["ssl.key.location"])
        elif certificate and self.config.get("ssl.key.pem"):
            with tempfile.NamedTemporaryFile("w", suffix=".pem") as key:  # ssl wants a path; 0600, removed at once
                key.write(self.config["ssl.key.pem"])
                key.flush()
                context.load_cert_chain(certificate, key.name)
        if self.config.get("enable.ssl.certificate.verification") is False:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context.wrap_socket(sock, server_hostname=host)

    # -- framing -----------------------------------------------------------------------
    def _call(self, api_key: int, version: int, body: bytes) -> _Reader:
        assert self.sock is not None
        self.correlation += 1
        header = _Writer().int16(api_key).int16(version).int32(self.correlation).string("brokerform").done()
        payload = header + body
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        size = struct.unpack(">i", self._recv(4))[0]
        reader = _Reader(self._recv(size))
        if reader.int32() != self.correlation:
            raise ProviderError("client quotas: the broker answered out of order")
        return reader

    def _recv(self, size: int) -> bytes:
        assert self.sock is not None
        chunks, remaining = [], size
        while remaining:
            chunk = self.sock.recv(remaining)
            if not chunk:
                raise ProviderError("client quotas: the broker closed the connection", transient=True)
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    # -- SASL --------------------------------------------------------------------------
    def _authenticate(self, mechanism: str) -> None:
        reader = self._call(API_SASL_HANDSHAKE, 1, _Writer().string(mechanism).done())
        if reader.int16() != 0:
            raise ProviderError(f"client quotas: the broker does not accept SASL {mechanism}")
        user = str(self.config.get("sasl.username", ""))
        password = str(self.config.get("sasl.password", ""))
        if mechanism == "PLAIN":
            self._sasl_step(b"\0" + user.encode() + b"\0" + password.encode())
        elif mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
            self._scram(hashlib.sha256 if mechanism.endswith("256") else hashlib.sha512, user, password)
        else:
            raise ProviderError(f"client quotas: SASL {mechanism} is not supported")

    def _sasl_step(self, token: bytes) -> bytes:
        reader = self._call(API_SASL_AUTHENTICATE, 0, _Writer().bytes_(token).done())
        code, message = reader.int16(), reader.string()
        if code != 0:
            raise ProviderError(f"client quotas: authentication failed: {message or code}")
        return reader.bytes_()

    def _scram(self, digest, user: str, password: str) -> None:
        nonce = base64.b64encode(os.urandom(18)).decode()
        name = user.replace("=", "=3D").replace(",", "=2C")
        first_bare = f"n={name},r={nonce}"
        server_first = self._sasl_step(("n,," + first_bare).encode()).decode()
        fields = dict(item.split("=", 1) for item in server_first.split(","))
        if not fields["r"].startswith(nonce):
            raise ProviderError("client quotas: SCRAM nonce mismatch")
        salted = hashlib.pbkdf2_hmac(digest().name, password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
        client_key = hmac.new(salted, b"Client Key", digest).digest()
        without_proof = f"c=biws,r={fields['r']}"
        auth_message = f"{first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(digest(client_key).digest(), auth_message, digest).digest()
        proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
        server_final = self._sasl_step(f"{without_proof},p={proof}".encode()).decode()
        server_key = hmac.new(salted, b"Server Key", digest).digest()
        expected = base64.b64encode(hmac.new(server_key, auth_message, digest).digest()).decode()
        if server_final != f"v={expected}":
            raise ProviderError("client quotas: the broker's SCRAM signature does not verify")

    # -- quotas ------------------------------------------------------------------------
    def describe(self) -> list[tuple[dict[str, str], dict[str, float]]]:
        """Every quota entity with a user or a client id, defaults included (an empty filter matches nothing)."""
        found: dict[tuple, tuple[dict[str, str], dict[str, float]]] = {}
        for entity_type in ENTITY_TYPES:
            for entity, values in self._describe_matching(entity_type):
                found[tuple(sorted(entity.items()))] = (entity, values)
        return list(found.values())

    def _describe_matching(self, entity_type: str) -> list[tuple[dict[str, str], dict[str, float]]]:
        return self._describe([(entity_type, MATCH_SPECIFIED, None)], strict=False)

    def _describe(self, components: list[tuple[str, int, str | None]], *, strict: bool
                  ) -> list[tuple[dict[str, str], dict[str, float]]]:
        """DescribeClientQuotas with a filter of (entity type, match type, name) components."""
        request = _Writer().int32(len(components))
        for entity_type, match_type, name in components:
            request.string(entity_type).int8(match_type).string(name)
        reader = self._call(API_DESCRIBE_CLIENT_QUOTAS, 0, request.int8(1 if strict else 0).done())
        reader.int32()  # throttle time
        code, message = reader.int16(), reader.string()
        if code != 0:
            raise ProviderError(f"client quotas: describe failed: {message or code}")
        entries = []
        for _ in range(max(reader.int32(), 0)):
            entity = {}
            for _ in range(reader.int32()):
                kind, name = reader.string(), reader.string()
                entity[kind] = _entity_name(name)
            values = {}
            for _ in range(reader.int32()):
                key = reader.string()
                values[key] = reader.float64()
            entries.append((entity, values))
        return entries

    def values_of(self, entity: dict[str, str | None]) -> dict[str, float]:
        """Values of exactly this entity (a strict filter: (<default>, X) is not (X), nor (A, X))."""
        components = [(kind, MATCH_DEFAULT, None) if _wire_name(name) is None else (kind, MATCH_EXACT, name)
                      for kind, name in entity.items()]
        for _, values in self._describe(components, strict=True):
            return values
        return {}

    def wait_until(self, entity: dict[str, str], expected: dict[str, float], timeout: float = 15.0) -> None:
        """Brokers serve quotas from their metadata cache, which follows the controller a moment
        later: wait (bounded) until a describe shows what was altered, so the next plan is clean."""
        want = {k: float(v) for k, v in expected.items()}
        deadline = time.monotonic() + timeout
        delay = 0.05
        while self.values_of(entity) != want:
            if time.monotonic() >= deadline:
                raise ProviderError(f"client quotas: {entity} did not read back as {want} within {timeout:g}s",
                                    transient=True)
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def alter(self, entity: dict[str, str], set_values: dict[str, float], remove: list[str]) -> None:
        body = _Writer().int32(1).int32(len(entity))
        for entity_type, entity_name in entity.items():
            body.string(entity_type).string(_wire_name(entity_name))
        body.int32(len(set_values) + len(remove))
        for key, value in set_values.items():
            body.string(key).float64(float(value)).int8(0)
        for key in remove:
            body.string(key).float64(0.0).int8(1)
        reader = self._call(API_ALTER_CLIENT_QUOTAS, 0, body.int8(0).done())
        reader.int32()
        for _ in range(reader.int32()):
            code, message = reader.int16(), reader.string()
            for _ in range(reader.int32()):
                reader.string(), reader.string()
            if code != 0:
                raise ProviderError(f"client quotas: alter {entity} failed: {message or code}")
