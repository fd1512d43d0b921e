"""`brokerform report` with hostile input: names, owners, descriptions, commit subjects and
capability-matrix text stay inert Markdown; report templates are sandboxed and fail cleanly;
a broken capability matrix or lint configuration is a located error; odd file names and
output extensions are handled."""

from __future__ import annotations

import os
import subprocess
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from brokerform.cli import main
from support.hostile_manifests import COLLIDING_CHANNELS

ROOT = Path(__file__).resolve().parents[1]
ORDERS = ROOT / "examples" / "rabbitmq-orders"

HOSTILE = """\
brokerform: 1
metadata:
  description: "Shop\\nnot a heading"
targets:
  "rmq|a":
    type: rabbitmq
    url: http://127.0.0.1:1
    owner: "<img src=x onerror=alert(1)>"
    scope: {vhost: v}
channels:
  "orders`x":
    target: "rmq|a"
    pattern: point-to-point
    owner: "team\\n| injected | row |"
    description: "```\\n# not a heading"
    producers: [svc]
    consumers: ["svc2\\r| cr | row |"]
"""

WITH_REQUIREMENTS = """\
brokerform: 1
targets:
  rmq: {type: rabbitmq, url: "http://127.0.0.1:1", scope: {vhost: v}}
channels:
  orders:
    target: rmq
    pattern: point-to-point
    producers: [a]
    consumers: [b]
    requirements: {delivery: exactly-once, throughput: 30000, message_size: 1MiB, retention: 7d, latency: 5ms,
                   ordering: per-key, replay: true}
"""


def report(*args: str):
    return CliRunner().invoke(main, ["report", *args])


def write(folder: Path, text: str, name: str = "manifest.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def markdown_tokens(text: str):
    return MarkdownIt("commonmark", {"html": True}).enable("table").parse(text)


def table_shapes(text: str) -> list[set[int]]:
    """For each table, the set of cell counts of its rows (one count when no row is broken)."""
    shapes, widths, cells = [], [], 0
    for token in markdown_tokens(text):
        if token.type == "table_open":
            widths = []
        elif token.type == "tr_open":
            cells = 0
        elif token.type in ("th_open", "td_open"):
            cells += 1
        elif token.type == "tr_close":
            widths.append(cells)
        elif token.type == "table_close":
            shapes.append(set(widths))
    return shapes


def raw_html(text: str) -> list[str]:
    """Raw HTML the Markdown would pass through, apart from the report's own <details> blocks."""
    found = []
    for token in markdown_tokens(text):
        children = token.children or []
        for t in [token, *children]:
            if t.type in ("html_block", "html_inline"):
                found.append(t.content.strip())
    return [h for h in found if not h.startswith(("<details><summary>Why (", "</details>"))]


def headings(text: str) -> list[str]:
    tokens = markdown_tokens(text)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]


# --- Markdown escaping -------------------------------------------------------------------------------


def test_markdown_report_keeps_hostile_names_owners_and_descriptions_inert(tmp_path):
    folder = write(tmp_path / "m", HOSTILE)
    result = report(str(folder), "--no-history", "--no-lint", "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "r.md").read_text(encoding="utf-8")

    assert text.startswith("# Shop not a heading\n")
    assert raw_html(text) == []
    assert all(len(shape) == 1 for shape in table_shapes(text)), table_shapes(text)
    assert "| `rmq\\|a` | RabbitMQ | — | &lt;img src=x onerror=alert(1)> |" in text
    assert "- **Owners:** &lt;img src=x onerror=alert(1)>, team \\| injected \\| row \\|\n" in text
    assert "| Owner | team \\| injected \\| row \\| |\n" in text
    assert "| Consumers | svc2 \\| cr \\| row \\| |\n" in text
    assert "### ``orders`x``\n\n\\``` # not a heading\n" in text
    assert "| injected |" not in text.replace("\\| injected \\|", "")
    assert [h for h in headings(text) if "orders" in h] == ["``orders`x``", "``orders`x`` — no requirements"]
    assert [t.info for t in markdown_tokens(text) if t.type in ("fence", "code_block")] == ["mermaid"]


def test_markdown_report_escapes_commit_subjects_and_authors_in_the_decision_history(tmp_path):
    folder = write(tmp_path / "repo", HOSTILE)
    env = {"GIT_AUTHOR_NAME": "Mallory | admin", "GIT_AUTHOR_EMAIL": "m@example.com", "GIT_COMMITTER_NAME": "M",
           "GIT_COMMITTER_EMAIL": "m@example.com", "GIT_AUTHOR_DATE": "2024-03-01T10:00:00Z",
           "GIT_COMMITTER_DATE": "2024-03-01T10:00:00Z", "PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "<img src=x onerror=alert(1)> | `x` row"]):
        subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, env=env)
    result = report(str(folder), "--no-lint")
    assert result.exit_code == 0, result.output
    history = result.stdout.split("## Decision history\n", 1)[1]
    assert "| Mallory \\| admin | &lt;img src=x onerror=alert(1)> \\| `x` row |\n" in history
    assert raw_html(result.stdout) == []
    assert all(len(shape) == 1 for shape in table_shapes(result.stdout))


def hostile_matrix() -> str:
    text = resources.files("brokerform").joinpath("data/broker-capabilities.yaml").read_text(encoding="utf-8")
    return (text.replace("label: RabbitMQ", 'label: "<script>alert(1)</script>|`x`"')
            .replace("patterns: {value: All, source: \"brief#decision-framework\"}",
                     "patterns: {value: \"All\", source: \"<img src=x onerror=alert(2)>|\"}", 1)
            .replace("at-least-once: {guarantee: High,", "at-least-once: {guarantee: \"<i>High</i>|\",", 1))


def test_markdown_report_escapes_capability_matrix_text(tmp_path):
    folder = write(tmp_path / "m", WITH_REQUIREMENTS)
    (tmp_path / "caps.yaml").write_text(hostile_matrix(), encoding="utf-8")
    result = report(str(folder), "--no-history", "--no-lint", "--capabilities", str(tmp_path / "caps.yaml"))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert raw_html(text) == []
    assert all(len(shape) == 1 for shape in table_shapes(text))
    assert "| **&lt;script>alert(1)&lt;/script>\\|`x`** (chosen) |" in text
    assert "| at-least-once | &lt;i>High&lt;/i>\\| | Medium | Critical data |\n" in text


# --- HTML anchors ---------------------------------------------------------------------------------------


def test_html_report_gives_channels_whose_names_slug_alike_distinct_anchors(tmp_path):
    folder = write(tmp_path / "m", COLLIDING_CHANNELS)
    result = report(str(folder), "--no-history", "--no-lint", "--format", "html")
    assert result.exit_code == 0, result.output
    anchors = [line.split('"')[1] for line in result.stdout.splitlines() if line.startswith('<h3 id="channel-')]
    assert anchors == ["channel-orders-created", "channel-orders-created-2", "channel-orders-created-3",
                       "channel-orders-created-4"]


# --- templates ------------------------------------------------------------------------------------------


def template_dir(tmp_path: Path, content: bytes | str, name: str = "report.md.j2") -> Path:
    folder = tmp_path / "tpl"
    folder.mkdir(exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    (folder / name).write_bytes(data)
    return folder


def test_report_templates_cannot_reach_python_internals(tmp_path):
    folder = template_dir(tmp_path, "{{ report.__class__.__init__.__globals__ }}\n")
    result = report(str(ORDERS), "--no-history", "--no-lint", "--template-dir", str(folder))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (f"error: {folder / 'report.md.j2'}:1: template error: not allowed in a report "
                             "template: access to attribute '__class__' of 'Report' object is unsafe.\n")


@pytest.mark.parametrize(("content", "name", "fmt", "message"), [
    (b"ok\n\xff\xfe\n", "report.html.j2", "html", "2: not valid UTF-8 text"),
    ("line one\n\n{{ 1/0 }}\n", "report.md.j2", "markdown", "3: template error: ZeroDivisionError: division by zero"),
    ("{% macro m() %}\n{{ m() }}\n{% endmacro %}\n{{ m() }}\n", "report.md.j2", "markdown",
     "2: template error: recursion too deep (a macro or an include that calls itself?)"),
    ("# {{ report.title }}\n{{ report.nonexistent.attr }}\n", "report.md.j2", "markdown",
     "2: template error: 'brokerform.report.model.Report object' has no attribute 'nonexistent'"),
    ("{% for x in %}\n", "report.md.j2", "markdown",
     "1: template error: Expected an expression, got 'end of statement block'"),
], ids=["not-utf8", "division-by-zero", "recursive-macro", "undefined-attribute", "syntax"])
def test_broken_report_templates_fail_with_file_and_line(tmp_path, content, name, fmt, message):
    folder = template_dir(tmp_path, content, name)
    result = report(str(ORDERS), "--no-history", "--no-lint", "--template-dir", str(folder), "--format", fmt)
    assert result.exit_code == 1
    assert result.stderr == f"error: {folder / name}:{message}\n"
    assert "internal error" not in result.output


def test_an_error_in_an_included_template_names_the_included_file(tmp_path):
    folder = template_dir(tmp_path, "a\n{% include 'part.j2' %}\n")
    (folder / "part.j2").write_text("x\ny\n{{ report.nope }}\n")
    result = report(str(ORDERS), "--no-history", "--no-lint", "--template-dir", str(folder))
    assert result.exit_code == 1
    assert result.stderr == (f"error: {folder / 'part.j2'}:3: template error: "
                             "'brokerform.report.model.Report object' has no attribute 'nope'\n")


# --- capability matrix ------------------------------------------------------------------------------------


def packaged_matrix() -> str:
    return resources.files("brokerform").joinpath("data/broker-capabilities.yaml").read_text(encoding="utf-8")


def position(text: str, needle: str, offset: int = 0) -> str:
    """LINE:COL of `needle` (plus `offset` characters) in text."""
    index = text.index(needle) + offset
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"{line}:{column}"


RABBITMQ_PUBSUB = 'pubsub: {score: 2, how: "topic/fanout/headers'
RABBITMQ_SCALE = 'scale: {value: Medium, source: "brief#decision-framework"}'
RABBITMQ_RETENTION = "    retention:\n      max_ms: null\n      score: 1\n      note: \"queues delete"


@pytest.mark.parametrize(("old", "new", "anchor", "offset", "message"), [
    (RABBITMQ_PUBSUB, 'pubsub: {score: high, how: "topic/fanout/headers', "score: high", 7,
     "brokers.rabbitmq.patterns.pubsub.score: expected an integer, got 'high'"),
    (RABBITMQ_PUBSUB, 'pubsub: {score: 3, how: "topic/fanout/headers', "score: 3", 7,
     "brokers.rabbitmq.patterns.pubsub.score: expected a value <= 2, got 3"),
    (RABBITMQ_PUBSUB, 'pubsub: {score: 2, hwo: "topic/fanout/headers', "hwo", 0,
     "brokers.rabbitmq.patterns.pubsub.hwo: unknown field 'hwo'; did you mean 'how'?"),
    (RABBITMQ_SCALE, 'scale: {value: Gigantic, source: "brief#decision-framework"}', "Gigantic", 0,
     "brokers.rabbitmq.framework.scale.value: unknown level 'Gigantic' for scale; "
     "levels.scale defines Medium, High, Very High"),
    (RABBITMQ_RETENTION, "    retention:\n      max_ms: forever\n      score: 1\n      note: \"queues delete",
     "forever", 0, "brokers.rabbitmq.retention.max_ms: expected an integer, got 'forever'"),
], ids=["score-word", "score-3", "misspelt-key", "unknown-level", "max-ms-word"])
def test_wrong_capability_matrix_values_are_located_errors(tmp_path, old, new, anchor, offset, message):
    text = packaged_matrix()
    assert old in text
    matrix = text.replace(old, new, 1)
    (tmp_path / "caps.yaml").write_text(matrix, encoding="utf-8")
    folder = write(tmp_path / "m", WITH_REQUIREMENTS)
    result = report(str(folder), "--no-history", "--no-lint", "--capabilities", str(tmp_path / "caps.yaml"))
    assert result.exit_code == 1
    assert result.stderr == (f"{tmp_path / 'caps.yaml'}:{position(matrix, anchor, offset)}: {message}\n"
                             "error: 1 problem(s) found\n")


@pytest.mark.parametrize(("replace", "field", "expected"), [
    ("    patterns: null\n", "brokers.rabbitmq.patterns", "expected a mapping, got nothing (null)"),
    ("    max_message_size: huge\n", "brokers.rabbitmq.max_message_size", "expected a mapping, got 'huge'"),
    ("    throughput: fast\n", "brokers.rabbitmq.throughput", "expected a mapping, got 'fast'"),
    ("levels: null\n", "levels", "expected a mapping, got nothing (null)"),
], ids=["patterns-null", "size-word", "throughput-word", "levels-null"])
def test_capability_matrix_sections_of_the_wrong_type_are_located_errors(tmp_path, replace, field, expected):
    """Whole sections replaced by a scalar: one located problem each, no crash."""
    lines = packaged_matrix().splitlines(keepends=True)
    key = replace.split(":")[0]
    if key == "levels":
        start = next(i for i, line in enumerate(lines) if line == "levels:\n")
    else:
        rabbit = next(i for i, line in enumerate(lines) if line == "  rabbitmq:\n")
        start = next(i for i in range(rabbit, len(lines)) if lines[i].startswith(key + ":"))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and (len(lines[end]) - len(lines[end].lstrip()) > indent or not lines[end].strip()):
        end += 1
    matrix = "".join(lines[:start] + [replace] + lines[end:])
    (tmp_path / "caps.yaml").write_text(matrix, encoding="utf-8")
    folder = write(tmp_path / "m", WITH_REQUIREMENTS)
    result = report(str(folder), "--no-history", "--no-lint", "--capabilities", str(tmp_path / "caps.yaml"))
    value = replace.split(": ", 1)[1].strip()
    where = f"{start + 1}:{len(replace) - len(value) }"
    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path / 'caps.yaml'}:{where}: {field}: {expected}\nerror: 1 problem(s) found\n"


def test_a_capability_matrix_missing_a_broker_names_it(tmp_path):
    matrix = packaged_matrix().replace("\n  aws:\n", "\n  amazon:\n", 1)
    (tmp_path / "caps.yaml").write_text(matrix, encoding="utf-8")
    result = report(str(write(tmp_path / "m", WITH_REQUIREMENTS)), "--no-history", "--no-lint",
                    "--capabilities", str(tmp_path / "caps.yaml"))
    assert result.exit_code == 1
    caps = tmp_path / "caps.yaml"
    assert result.stderr == (
        f"{caps}:{position(matrix, 'brokers:')}: brokers.aws: required field is missing\n"
        f"{caps}:{position(matrix, 'amazon:')}: brokers.amazon: unknown field 'amazon'; "
        "expected one of: aws, azure-servicebus, kafka, rabbitmq\n"
        "error: 2 problem(s) found\n")


def test_an_empty_capability_matrix_is_a_clear_error(tmp_path):
    (tmp_path / "caps.yaml").write_text("")
    result = report(str(ORDERS), "--no-history", "--no-lint", "--capabilities", str(tmp_path / "caps.yaml"))
    assert result.exit_code == 1
    assert result.stderr == (f"{tmp_path / 'caps.yaml'}:1:1: a capability matrix is a mapping with `levels:` and "
                             "`brokers:`, got an empty file\nerror: 1 problem(s) found\n")


def test_the_packaged_capability_matrix_passes_its_own_checks():
    from brokerform.report.capabilities import validate_matrix

    assert set(validate_matrix(packaged_matrix(), "broker-capabilities.yaml")["brokers"]) == {
        "rabbitmq", "kafka", "azure-servicebus", "aws"}


# --- lint configuration ---------------------------------------------------------------------------------


def test_an_invalid_lint_configuration_fails_the_report_with_its_located_error(tmp_path):
    folder = write(tmp_path / "m", WITH_REQUIREMENTS)
    (folder / ".brokerform.yaml").write_text("lint:\n  disable: [no-such-rule]\n")
    (folder / ".git").mkdir()  # the configuration search stops at the repository root
    result = report(str(folder), "--no-history")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "lint failed" not in result.output
    assert result.stderr.startswith(f"{folder / '.brokerform.yaml'}:2:13: lint.disable[0]: ")
    assert result.stderr.endswith("error: 1 problem(s) found\n")


def test_no_lint_skips_an_invalid_lint_configuration(tmp_path):
    folder = write(tmp_path / "m", WITH_REQUIREMENTS)
    (folder / ".brokerform.yaml").write_text("lint:\n  disable: [no-such-rule]\n")
    (folder / ".git").mkdir()
    result = report(str(folder), "--no-history", "--no-lint")
    assert result.exit_code == 0, result.output


# --- file names and output extensions --------------------------------------------------------------------


def non_utf8_manifest(tmp_path: Path) -> Path:
    folder = tmp_path / "nu"
    folder.mkdir()
    try:
        (folder / os.fsdecode(b"m\xff.yaml")).write_text((ORDERS / "manifest.yaml").read_text())
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses file names that are not UTF-8")
    (folder / "schemas").mkdir()
    for schema in (ORDERS / "schemas").iterdir():
        (folder / "schemas" / schema.name).write_bytes(schema.read_bytes())
    return folder


@pytest.mark.parametrize("output", ["r.md", "r.html"])
def test_a_manifest_file_name_that_is_not_utf8_is_shown_escaped(tmp_path, output):
    folder = non_utf8_manifest(tmp_path)
    result = report(str(folder), "--no-history", "-o", str(tmp_path / output))
    assert result.exit_code == 0, result.output
    text = (tmp_path / output).read_text(encoding="utf-8")
    assert "m\\xff.yaml:" in text


def test_a_report_on_stdout_carries_no_undecodable_bytes(tmp_path):
    folder = non_utf8_manifest(tmp_path)
    result = report(str(folder), "--no-history")
    assert result.exit_code == 0, result.output
    assert b"\xff" not in result.stdout_bytes
    assert "m\\xff.yaml:" in result.stdout


def test_output_extensions_pick_the_format_in_any_case(tmp_path):
    result = report(str(ORDERS), "--no-history", "--no-lint", "-o", str(tmp_path / "r.HTML"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.HTML").read_text().startswith("<!DOCTYPE html>")
    result = report(str(ORDERS), "--no-history", "--no-lint", "-o", str(tmp_path / "r.Markdown"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.Markdown").read_text().startswith("# Order pipeline")


def test_an_output_extension_that_is_no_report_format_is_refused(tmp_path):
    result = report(str(ORDERS), "--no-history", "--no-lint", "-o", str(tmp_path / "r.pdf"))
    assert result.exit_code == 1
    assert result.stderr == (f"error: -o {tmp_path / 'r.pdf'}: cannot tell the format from '.pdf'; "
                             "use one of .md, .markdown, .html, .htm\n")
    assert not (tmp_path / "r.pdf").exists()


def test_an_output_extension_contradicting_format_is_refused(tmp_path):
    result = report(str(ORDERS), "--no-history", "--no-lint", "--format", "markdown", "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 1
    assert result.stderr == (f"error: -o {tmp_path / 'r.html'}: '.html' is for html output but --format is "
                             "markdown; name the file .md or .markdown, or drop --format\n")


def test_with_an_explicit_format_any_output_file_name_is_accepted(tmp_path):
    out = tmp_path / "notes.txt"
    result = CliRunner().invoke(main, ["report", str(ORDERS), "--format", "markdown", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# ")


def test_a_password_in_an_endpoint_url_reaches_no_report_or_asyncapi_document(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://moto:S3cr3t-Zebra-EP@127.0.0.1:4566")
    path = tmp_path / "manifest.yaml"
    path.write_text("""\
targets:
  a:
    type: aws
    region: eu-west-1
    endpoint_url: ${env:AWS_ENDPOINT_URL}
    queues: {orders: {}}
channels:
  orders:
    target: a
    pattern: point-to-point
    producers: [shop]
    consumers: [billing]
""")
    report = CliRunner().invoke(main, ["report", str(path)])
    asyncapi = CliRunner().invoke(main, ["export", "asyncapi", str(path), "-o", str(tmp_path / "asyncapi.json")])
    assert (report.exit_code, asyncapi.exit_code) == (0, 0), report.output + asyncapi.output
    assert "plain-HTTP endpoint http://moto:***@127.0.0.1:4566" in report.output
    document = (tmp_path / "asyncapi.json").read_text()
    assert '"host": "127.0.0.1:4566"' in document
    assert "S3cr3t-Zebra-EP" not in report.output + document
