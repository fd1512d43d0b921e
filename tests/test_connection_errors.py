"""A URL that points at the wrong server, or client settings the broker library refuses, give a
sentence that names the setting — never `JSONDecodeError`, `KeyError` or "internal error"."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from brokerform.cli import main


class _HtmlEverywhere(http.server.BaseHTTPRequestHandler):
    """A web server that is not a broker API: an HTML page for GET, 501 for POST."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        status = 404 if "/api/definitions/" in self.path else 200
        body = b"<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        self.send_error(501, "Unsupported method")

    def log_message(self, *args):
        pass


@pytest.fixture
def web_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HtmlEverywhere)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_a_rabbitmq_url_that_is_not_the_management_api_is_an_error_not_a_plan_to_create(web_server, tmp_path):
    """Before: the web server's 404 read as "the vhost does not exist", and the plan created it."""
    path = tmp_path / "manifest.yaml"
    path.write_text(f"targets:\n  r:\n    type: rabbitmq\n    url: {web_server}\n    scope: {{vhost: shop}}\n"
                    "    queues: {orders: {}}\n")
    result = run("plan", path)
    assert result.exit_code == 1
    assert (f"error: {web_server} answered GET /api/definitions/shop (HTTP 404) with something other than the "
            "RabbitMQ management API's JSON ('<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body>'...): "
            "is url the management plugin's address, e.g. http://HOST:15672?") in result.output
    assert "+ queue" not in result.output


def test_importing_from_a_url_that_is_not_the_management_api_says_so(web_server, tmp_path):
    result = run("import", "rabbitmq", "--url", web_server, "-o", tmp_path / "out.yaml")
    assert result.exit_code == 1
    assert f"error: {web_server} answered GET /api/vhosts/%2F (HTTP 200) with something other than" in result.stderr
    assert "internal error" not in result.stderr


def test_an_aws_endpoint_that_is_not_sqs_says_so_in_plan_and_import(web_server, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    path = tmp_path / "manifest.yaml"
    path.write_text(f"targets:\n  a:\n    type: aws\n    region: eu-west-1\n    endpoint_url: {web_server}\n"
                    "    queues: {orders: {}}\n")
    planned = run("plan", path)
    assert planned.exit_code == 1
    assert f"error: a: cannot read the account id: {web_server} did not answer like the AWS API (" in planned.output
    assert "is endpoint_url an SQS/SNS endpoint?" in planned.output
    imported = run("import", "aws", "--endpoint-url", web_server, "--region", "eu-west-1",
                   "--account-id", "123456789012", "-o", tmp_path / "out.yaml")
    assert imported.exit_code == 1
    assert imported.stderr == (f"error: aws: cannot list queues: {web_server} did not answer like the AWS API "
                               "(HTTP 501); is endpoint_url an SQS/SNS endpoint?\n")


def test_a_kafka_ca_file_that_holds_no_certificate_is_named(tmp_path):
    not_a_ca = tmp_path / "hostname"
    not_a_ca.write_text("build-host\n")
    result = run("import", "kafka", "--bootstrap-servers", "127.0.0.1:1", "--security-protocol", "SSL",
                 "--ca-file", not_a_ca, "-o", tmp_path / "out.yaml")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot configure target kafka: cannot load the CA file {not_a_ca} "
                                    "(tls.ca_file / --ca-file): ")
    assert "internal error" not in result.stderr


def test_a_missing_kafka_ca_file_is_named_before_connecting(tmp_path, monkeypatch):
    monkeypatch.setenv("BF_TEST_KAFKA_PASSWORD", "admin-secret")
    path = tmp_path / "manifest.yaml"
    path.write_text("targets:\n  k:\n    type: kafka\n    bootstrap_servers: 127.0.0.1:1\n"
                    "    security_protocol: SASL_SSL\n"
                    "    sasl: {mechanism: PLAIN, username: admin, password: '${env:BF_TEST_KAFKA_PASSWORD}'}\n"
                    "    tls: {ca_file: certs/ca.pem}\n    topics: {t: {partitions: 1}}\n")
    result = run("plan", path)
    assert result.exit_code == 1
    assert f"error: cannot load tls.ca_file {tmp_path / 'certs' / 'ca.pem'}: no such file" in result.output


@pytest.mark.parametrize("args, message", [
    (["--security-protocol", "SASL_PLAINTEXT"],
     "error: --security-protocol SASL_PLAINTEXT needs --sasl-mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512), "
     "--sasl-username and --sasl-password-env\n"),
    (["--sasl-mechanism", "PLAIN", "--sasl-username", "admin", "--sasl-password-env", "HOME"],
     "error: --sasl-mechanism is never used with --security-protocol PLAINTEXT: use SASL_PLAINTEXT or SASL_SSL\n"),
], ids=["sasl-protocol-without-mechanism", "mechanism-without-sasl-protocol"])
def test_kafka_import_refuses_sasl_options_that_do_not_fit_together(tmp_path, args, message):
    result = run("import", "kafka", "--bootstrap-servers", "127.0.0.1:1", *args, "-o", tmp_path / "out.yaml")
    assert (result.exit_code, result.stderr) == (1, message)
