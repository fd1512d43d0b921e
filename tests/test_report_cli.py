"""`brokerform report`: formats, template overrides, lint summary, live plan and git history."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from brokerform.cli import main

ROOT = Path(__file__).resolve().parents[1]
ORDERS = ROOT / "examples" / "rabbitmq-orders"


def run(*args: str):
    return CliRunner().invoke(main, ["report", *args])


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada",
                        "GIT_COMMITTER_EMAIL": "ada@example.com", "GIT_AUTHOR_DATE": "2024-03-01T10:00:00Z",
                        "GIT_COMMITTER_DATE": "2024-03-01T10:00:00Z", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def test_output_extension_selects_html_and_stdout_defaults_to_markdown(tmp_path):
    html = run(str(ORDERS), "-o", str(tmp_path / "r.html"), "--no-history")
    markdown = run(str(ORDERS), "--no-history")
    assert (html.exit_code, markdown.exit_code) == (0, 0), html.output
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert markdown.output.startswith("# Order pipeline (checkout -> fulfilment, billing, notifications)\n")


def test_template_dir_overrides_one_template_and_falls_back_for_the_other(tmp_path):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "report.md.j2").write_text("{{ report.title }}: {{ report.channels | length }} channels\n")
    custom = run(str(ORDERS), "--template-dir", str(tmp_path / "tpl"), "--no-history")
    builtin_html = run(str(ORDERS), "--template-dir", str(tmp_path / "tpl"), "--format", "html", "--no-history")
    assert custom.output == "Order pipeline (checkout -> fulfilment, billing, notifications): 2 channels\n"
    assert builtin_html.output.startswith("<!DOCTYPE html>")


def test_a_broken_user_template_is_reported_with_its_line(tmp_path):
    (tmp_path / "report.md.j2").write_text("line one\n{% for x in %}\n")
    result = run(str(ORDERS), "--template-dir", str(tmp_path), "--no-history")
    assert result.exit_code == 1
    assert "report.md.j2:2: template error:" in result.output
    assert "Traceback" not in result.output


def test_lint_findings_summary_appears_when_the_lint_engine_is_installed():
    pytest.importorskip("brokerform.lint.engine")
    result = run(str(ROOT / "examples" / "multi-broker-shop"), "--env", "prod", "--no-history")
    section = result.output.split("## Lint findings summary\n", 1)[1].split("\n## ", 1)[0]
    assert "error(s)" in section and "| Severity | Finding | Where |" in section
    assert "[BF" in section  # lint rule ids


def test_history_lists_the_commits_that_changed_the_manifest(tmp_path):
    if shutil.which("git") is None:
        pytest.fail("git is required")
    repo = tmp_path / "repo"
    shutil.copytree(ORDERS, repo / "orders")
    (repo / "unrelated.txt").write_text("x")
    git(repo, "init", "-q")
    git(repo, "add", "orders")
    git(repo, "commit", "-q", "-m", "Add the order pipeline")
    git(repo, "add", "unrelated.txt")
    git(repo, "commit", "-q", "-m", "Unrelated change")
    manifest = repo / "orders" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("max_queues: 200", "max_queues: 300"))
    git(repo, "commit", "-q", "-am", "Raise the queue limit: decided in ADR-7")
    result = run(str(repo / "orders"), "--no-lint")
    section = result.output.split("## Decision history\n", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert [r.split(" | ")[1:] for r in rows] == [
        ["2024-03-01", "Ada", "Raise the queue limit: decided in ADR-7 |"],
        ["2024-03-01", "Ada", "Add the order pipeline |"],
    ]


def test_history_outside_git_says_so(tmp_path):
    shutil.copytree(ORDERS, tmp_path / "orders")
    result = run(str(tmp_path / "orders"), "--no-lint")
    assert result.output.rstrip().endswith("## Decision history\n\nthe manifest is not in a git repository")


def test_live_shows_each_targets_plan_or_its_error(tmp_path):
    path = tmp_path / "manifest.yaml"
    path.write_text("""targets:
  gone:
    type: rabbitmq
    url: http://127.0.0.1:9
    timeout: 2s
channels:
  jobs: {target: gone, pattern: point-to-point}
""")
    result = run(str(path), "--live", "--no-history", "--no-lint")
    assert result.exit_code == 0, result.output
    section = result.output.split("## Live state\n", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| `gone` |"))
    error = row.split(" | ")[2]
    assert error.strip(" |"), row  # the unreachable target's error is shown, not raised
