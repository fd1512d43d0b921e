"""Units people write, and secrets that only travel by reference."""

from __future__ import annotations

import pytest

from brokerform.model.units import format_duration_ms, format_size_bytes, parse_duration_ms, parse_size_bytes
import json

from brokerform.secrets import (
    SecretResolutionError,
    dumps_redacted,
    interpolate,
    redact,
    register_secret,
    resolve_secret,
)


@pytest.mark.parametrize(
    "text, ms",
    [("500ms", 500), ("30s", 30_000), ("15m", 900_000), ("12h", 43_200_000), ("7d", 604_800_000),
     ("2w", 1_209_600_000), ("1h30m", 5_400_000), ("1.5s", 1_500), (90, 90_000), ("0s", 0)],
)
def test_durations_parse_to_milliseconds(text, ms):
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("bad", ["7 days", "forever", "-1s", True, "", "5x", -3])
def test_invalid_durations_are_rejected_with_the_accepted_forms(bad):
    with pytest.raises(ValueError):
        parse_duration_ms(bad)


@pytest.mark.parametrize(
    "text, size",
    [("256KiB", 262_144), ("1MiB", 1_048_576), ("10MB", 10_000_000), ("512B", 512), (4096, 4096), ("1.5KiB", 1536)],
)
def test_sizes_parse_to_bytes(text, size):
    assert parse_size_bytes(text) == size


def test_durations_and_sizes_render_in_the_largest_exact_unit():
    assert [format_duration_ms(v) for v in (604_800_000, 90_000, 1_500, 0)] == ["1w", "90s", "1500ms", "0ms"]
    assert [format_size_bytes(v) for v in (262_144, 1_048_576, 1000)] == ["256KiB", "1MiB", "1000B"]


def test_env_references_resolve_with_defaults(monkeypatch):
    monkeypatch.setenv("BF_TEST_HOST", "broker.internal")
    monkeypatch.delenv("BF_TEST_MISSING", raising=False)
    assert interpolate("amqp://${env:BF_TEST_HOST}:5672") == "amqp://broker.internal:5672"
    assert interpolate("${env:BF_TEST_MISSING:-localhost}") == "localhost"
    with pytest.raises(SecretResolutionError, match="environment variable BF_TEST_MISSING is not set"):
        interpolate("${env:BF_TEST_MISSING}")


def test_file_references_resolve_relative_to_the_manifest(tmp_path):
    (tmp_path / "secret.txt").write_text("s3cr3t-value\n")
    assert resolve_secret("${file:secret.txt}", tmp_path) == "s3cr3t-value"


@pytest.mark.parametrize(("content", "message"), [
    (b"\x96\x00binary key material", "{path} is not UTF-8 text"),
    (b"x" * (1024 * 1024 + 1), "{path} is larger than 1,048,576 bytes; a secret file holds one password, token or key"),
])
def test_secret_files_must_be_one_small_text_value(tmp_path, content, message):
    path = tmp_path / "secret.bin"
    path.write_bytes(content)
    with pytest.raises(SecretResolutionError) as err:
        resolve_secret("${file:secret.bin}", tmp_path)
    assert (str(err.value), err.value.reference) == (message.format(path=path), "${file:secret.bin}")


def test_an_endless_device_is_refused_as_a_secret_file_instead_of_read_forever():
    with pytest.raises(SecretResolutionError, match="^/dev/zero is larger than 1,048,576 bytes"):
        resolve_secret("${file:/dev/zero}")


def test_unresolvable_references_name_the_reference_as_written(monkeypatch):
    monkeypatch.delenv("BF_TEST_MISSING", raising=False)
    with pytest.raises(SecretResolutionError) as err:
        interpolate("http://${env:BF_TEST_MISSING}:15672")
    assert err.value.reference == "${env:BF_TEST_MISSING}"


def test_resolved_secrets_are_redacted_everywhere():
    register_secret("correct-horse-battery")
    data = {"url": "amqp://app:correct-horse-battery@host", "list": ["correct-horse-battery"], "n": 3}
    assert redact(data) == {"url": "amqp://app:***@host", "list": ["***"], "n": 3}


def test_a_literal_is_not_a_secret_reference():
    with pytest.raises(SecretResolutionError):
        resolve_secret("hunter2")


def test_defaults_inside_secret_references_are_redacted_in_output():
    assert redact({"password": "${env:APP_PASSWORD:-dev-only-secret}", "url": "${file:/run/secret}"}) == {
        "password": "${env:APP_PASSWORD:-***}", "url": "${file:/run/secret}"}


def test_json_output_without_secrets_is_plain_json():
    data = {"queues": [{"name": f"q.{i}", "arguments": {"x-message-ttl": 1000}} for i in range(3)]}
    assert dumps_redacted(data, separators=(",", ":")) == json.dumps(data, separators=(",", ":"))


@pytest.mark.parametrize("secret", ["plain-secret-value", 'quote"and\\backslash', "päss-wörd-ünïcode"])
def test_json_output_redacts_secrets_even_where_json_escapes_them(secret):
    register_secret(secret)
    text = dumps_redacted({"url": f"amqp://app:{secret}@host", secret: [secret]}, separators=(",", ":"))
    assert json.loads(text) == {"url": "amqp://app:***@host", "***": ["***"]}


def test_json_output_redacts_defaults_inside_secret_references():
    text = dumps_redacted({"password": "${env:APP_PASSWORD:-dev-only-secret}"})
    assert json.loads(text) == {"password": "${env:APP_PASSWORD:-***}"}


def test_a_short_secret_is_redacted_as_a_value_but_not_inside_longer_names():
    register_secret("guest")
    plan = {"target": "guest-rmq", "queue": "guests/guest.notifications", "error": "login guest refused",
            "url": "amqp://app:guest@host", "password": "guest"}
    assert redact(plan) == {"target": "guest-rmq", "queue": "guests/guest.notifications",
                            "error": "login *** refused", "url": "amqp://app:***@host", "password": "***"}


def test_a_saved_plan_keeps_target_names_that_contain_the_password():
    register_secret("orders")
    text = dumps_redacted({"target": "orders-rmq", "address": "orders-rmq.queue[shop/orders.audit]"})
    assert json.loads(text) == {"target": "orders-rmq", "address": "orders-rmq.queue[shop/orders.audit]"}


@pytest.mark.parametrize("text, shown", [
    ("cannot connect to RabbitMQ at http://admin:S3cr3t-Zebra-URL@127.0.0.1:1: refused",
     "cannot connect to RabbitMQ at http://admin:***@127.0.0.1:1: refused"),
    ("dest-uri: amqps://shovel:p%40ss@remote:5671/%2F", "dest-uri: amqps://shovel:***@remote:5671/%2F"),
    ("http://127.0.0.1:15672/api/queues/%2F/a@b", "http://127.0.0.1:15672/api/queues/%2F/a@b"),
    ("mailto user@example.com", "mailto user@example.com"),
])
def test_passwords_in_urls_are_redacted_even_when_written_literally(text, shown):
    assert redact(text) == shown


def test_json_output_redacts_url_passwords_nobody_registered():
    text = dumps_redacted({"endpoint": "http://u:S3cr3t-Zebra-EP@127.0.0.1:4566"})
    assert json.loads(text) == {"endpoint": "http://u:***@127.0.0.1:4566"}


@pytest.mark.parametrize("text, shown", [
    ("login failed: password was hunter2.", "login failed: password was ***."),
    ("token=Xk9vQ2mT7rLpW4sZ_x", "token=***_x"),
    ("amqp://app:p@ss/word@host", "amqp://app:***@host"),
    ("GET /login?password=p%40ss%2Fword", "GET /login?password=***"),
    ('broker said: {"password": "quote\\"d"}', 'broker said: {"password": "***"}'),
])
def test_a_secret_is_redacted_at_a_sentence_end_and_in_its_encoded_forms_and_a_random_one_everywhere(text, shown):
    for secret in ("hunter2", "Xk9vQ2mT7rLpW4sZ", "p@ss/word", 'quote"d'):
        register_secret(secret)
    assert redact(text) == shown


def test_a_word_like_secret_is_not_redacted_inside_a_file_or_object_name():
    register_secret("federation")
    assert redact("cluster-operator-federation-over-tls.json: no vhost 'nope'; federation refused") == \
        "cluster-operator-federation-over-tls.json: no vhost 'nope'; *** refused"



def test_a_secret_resolved_into_a_url_password_is_percent_encoded_and_elsewhere_left_as_is(monkeypatch):
    """`@`, `/` or `:` in a password would end the userinfo early: a broken URI with half the secret
    in its host."""
    from brokerform.secrets import resolve_embedded

    monkeypatch.setenv("BF_TEST_URL_PW", "my@Secret/pw:x")
    assert resolve_embedded({"uri": "amqp://shovel:${env:BF_TEST_URL_PW}@dc2/%2F", "note": "${env:BF_TEST_URL_PW}"}) \
        == {"uri": "amqp://shovel:my%40Secret%2Fpw%3Ax@dc2/%2F", "note": "my@Secret/pw:x"}
