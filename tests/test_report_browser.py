"""The HTML report in headless Chromium: renders cleanly, draws the SVG, fetches nothing else.

Chromium is driven over the DevTools protocol with a tiny stdlib WebSocket client (no
extra packages). The report is served by a local HTTP server that records every request;
both the server log and the DevTools Network events must show only the page itself.
A screenshot is kept in test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from brokerform.manifest.loader import load_manifest
from brokerform.report.builder import ReportOptions, build_report
from brokerform.report.render import render_report

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--remote-debugging-port=0", "--window-size=1400,1000",
]

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


class WebSocket:
    """Just enough RFC 6455 for DevTools: masked text frames out, unmasked frames in."""

    def __init__(self, url: str, timeout: float = 30.0):
        parsed = urlparse(url)
        self.sock = socket.create_connection((parsed.hostname, parsed.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.hostname}:{parsed.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(1)
        if b" 101 " not in response.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"websocket upgrade refused: {response[:200]!r}")

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytearray([0x81])
        if len(payload) < 126:
            header.append(0x80 | len(payload))
        elif len(payload) < 65536:
            header.append(0x80 | 126)
            header += struct.pack(">H", len(payload))
        else:
            header.append(0x80 | 127)
            header += struct.pack(">Q", len(payload))
        mask = os.urandom(4)
        header += mask
        self.sock.sendall(bytes(header) + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("devtools closed the connection")
            data += chunk
        return data

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._exact(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._exact(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._exact(8))[0]
            payload = self._exact(length)
            opcode = first & 0x0F
            if opcode in (0x1, 0x0):
                message += payload
                if first & 0x80:
                    return message.decode()
            elif opcode == 0x8:
                raise ConnectionError("devtools closed the websocket")

    def close(self) -> None:
        self.sock.close()


class DevTools:
    def __init__(self, ws_url: str):
        self.ws = WebSocket(ws_url)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            message = json.loads(self.ws.receive())
            self.events.append(message)
            if message.get("method") == method:
                return message
        raise TimeoutError(method)

    def drain(self, seconds: float) -> None:
        """Collect events for a while (late requests would show up here)."""
        self.ws.sock.settimeout(0.2)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.events.append(json.loads(self.ws.receive()))
            except (socket.timeout, TimeoutError):
                continue
        self.ws.sock.settimeout(30)


def serve(directory: Path):
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, fmt, *args):  # record instead of printing
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, requests


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("headless Chromium is required: apt-get install -y chromium (scripts/install-system-deps)")
    return found


def page_websocket(user_data: Path, process: subprocess.Popen) -> str:
    port_file = user_data / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text().strip():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"chromium did not start: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
        time.sleep(0.1)
    port = int(port_file.read_text().split()[0])
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
        targets = json.load(response)
    return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


@pytest.fixture
def report_html(tmp_path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    loaded = load_manifest(ROOT / "examples" / "multi-broker-shop", "prod")
    html = render_report(build_report(loaded, ReportOptions(history=False)), "html")
    (site / "report.html").write_text(html, encoding="utf-8")
    return site / "report.html"


def test_html_report_renders_offline_in_headless_chromium(report_html, tmp_path):
    server, requests = serve(report_html.parent)
    user_data = tmp_path / "chromium-profile"
    process = subprocess.Popen([chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={user_data}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        devtools = DevTools(page_websocket(user_data, process))
        for domain in ("Page", "Runtime", "Log", "Network"):
            devtools.call(f"{domain}.enable")
        page_url = f"http://127.0.0.1:{server.server_address[1]}/report.html"
        devtools.call("Page.navigate", url=page_url)
        devtools.wait_for("Page.loadEventFired")
        devtools.drain(1.0)

        diagram = devtools.call("Runtime.evaluate", returnByValue=True, expression="""(() => {
            const svg = document.querySelector('#topology-diagram svg');
            if (!svg) return null;
            const box = svg.getBoundingClientRect();
            return {width: box.width, height: box.height,
                    nodes: svg.querySelectorAll('g.bf-node').length,
                    edges: svg.querySelectorAll('g.bf-edge[data-kind] path').length,
                    dlq: svg.querySelectorAll('g.k-dlq').length};
        })()""")["result"]["value"]
        shot = devtools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "report-multi-broker-shop.png").write_bytes(base64.b64decode(shot["data"]))
        devtools.ws.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        server.shutdown()

    console_errors = [e["params"] for e in devtools.events if e.get("method") == "Runtime.consoleAPICalled"
                      and e["params"]["type"] in ("error", "assert")]
    exceptions = [e["params"] for e in devtools.events if e.get("method") == "Runtime.exceptionThrown"]
    log_errors = [e["params"]["entry"] for e in devtools.events if e.get("method") == "Log.entryAdded"
                  and e["params"]["entry"]["level"] == "error"]
    fetched = [e["params"]["request"]["url"] for e in devtools.events if e.get("method") == "Network.requestWillBeSent"]

    assert (console_errors, exceptions, log_errors) == ([], [], [])
    assert diagram is not None, "no SVG diagram in the page"
    assert diagram["width"] > 400 and diagram["height"] > 200
    assert (diagram["nodes"], diagram["edges"], diagram["dlq"]) == (20, 19, 3)  # as in the Mermaid of the golden file
    assert [u for u in fetched if not u.startswith("data:")] == [page_url]
    assert requests == ["/report.html"]
    assert (ARTIFACTS / "report-multi-broker-shop.png").stat().st_size > 10_000
