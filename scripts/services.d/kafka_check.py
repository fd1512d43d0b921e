"""Readiness / smoke check for the local Kafka started by scripts/services.

Usage: kafka_check.py BOOTSTRAP USERNAME PASSWORD [TIMEOUT_SECONDS]
Exit 0 when the admin API answers (metadata request over SASL_PLAINTEXT/PLAIN),
1 when it does not within the timeout, 2 when confluent-kafka is not importable
(the caller then falls back to a port + log-line check).
"""
import sys
import time

try:
    from confluent_kafka.admin import AdminClient
except Exception:  # pragma: no cover - depends on the environment
    sys.exit(2)


def main() -> int:
    bootstrap, user, password = sys.argv[1:4]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    deadline = time.monotonic() + timeout
    admin = AdminClient(
        {
            "bootstrap.servers": bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN",
            "sasl.username": user,
            "sasl.password": password,
            "socket.connection.setup.timeout.ms": 2000,
            "reconnect.backoff.ms": 100,
            "reconnect.backoff.max.ms": 500,
            "log_level": 0,
            "logger": _Quiet(),
        }
    )
    last = None
    while time.monotonic() < deadline:
        try:
            md = admin.list_topics(timeout=max(1.0, min(5.0, deadline - time.monotonic())))
            if md.brokers:
                return 0
        except Exception as exc:  # KafkaException while the broker is starting
            last = exc
        time.sleep(0.5)
    if last is not None:
        print(f"kafka_check: {last}", file=sys.stderr)
    return 1


class _Quiet:
    """A logger that drops librdkafka's connection-refused chatter while waiting."""

    def log(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        return self.log


if __name__ == "__main__":
    sys.exit(main())
