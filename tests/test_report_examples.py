"""Every example renders in both report formats (and every environment overlay it has)."""

from __future__ import annotations

from pathlib import Path

import pytest

from brokerform.manifest.loader import available_environments, discover_files, load_manifest
from brokerform.report.builder import ReportOptions, build_report
from brokerform.report.render import render_report

ROOT = Path(__file__).resolve().parents[1]


def example_cases() -> list[tuple[str, str | None]]:
    cases: list[tuple[str, str | None]] = []
    for folder in sorted((ROOT / "examples").iterdir()):
        if folder.is_dir() and discover_files(folder):
            cases.append((folder.name, None))
            cases.extend((folder.name, env) for env in available_environments(folder))
    return cases


CASES = example_cases()


def test_the_examples_are_found():
    assert ("rabbitmq-orders", None) in CASES
    assert ("multi-broker-shop", "prod") in CASES


@pytest.mark.parametrize(("example", "environment"), CASES, ids=[f"{n}-{e or 'default'}" for n, e in CASES])
def test_example_report_renders_as_markdown_and_html(example, environment):
    loaded = load_manifest(ROOT / "examples" / example, environment)
    report = build_report(loaded, ReportOptions(history=False))
    markdown = render_report(report, "markdown")
    html = render_report(report, "html")
    assert markdown.startswith(f"# {report.title}\n")
    assert "```mermaid\nflowchart LR\n" in markdown
    for channel in loaded.manifest.channels:
        assert f"### `{channel}`" in markdown
        assert f"<code>{channel}</code></h3>" in html
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg ") == 1 and 'class="bf-node' in html
    assert "<script" not in html
