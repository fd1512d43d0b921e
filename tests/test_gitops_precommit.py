"""The pre-commit hooks, run the way pre-commit runs them: `entry` + `args`, no file names."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from brokerform.cli import main

ROOT = Path(__file__).resolve().parents[1]
HOOKS = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}


def run_hook(hook_id: str, args: list[str] | None, cwd: Path) -> subprocess.CompletedProcess:
    hook = HOOKS[hook_id]
    assert hook["pass_filenames"] is False
    command = shlex.split(hook["entry"]) + (hook["args"] if args is None else args)
    assert command[0] == "brokerform"
    brokerform = shutil.which("brokerform") or str(Path(sys.executable).parent / "brokerform")
    return subprocess.run([brokerform, *command[1:]], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_hooks_are_the_documented_python_hooks():
    assert sorted(HOOKS) == ["brokerform-lint", "brokerform-validate"]
    for hook in HOOKS.values():
        assert hook["language"] == "python"
        assert hook["args"] == ["."]


@pytest.mark.parametrize("hook_id", sorted(HOOKS))
def test_hooks_run_on_yaml_and_schema_changes_only(hook_id):
    files = re.compile(HOOKS[hook_id]["files"])
    assert [bool(files.search(p)) for p in ("topology/manifest.yaml", "topology/environments/prod.yml",
                                            "topology/schemas/order.schema.json", "README.md", "src/app.py")] == [
        True, True, True, False, False]


def test_validate_hook_passes_quietly_on_a_valid_manifest(tmp_path):
    done = run_hook("brokerform-validate", [str(ROOT / "examples" / "rabbitmq-orders")], tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_validate_hook_fails_with_a_located_error(tmp_path):
    (tmp_path / "manifest.yaml").write_text("brokerform: 1\nchannels:\n  jobs:\n    target: nowhere\n    pattern: point-to-point\n",
                                            encoding="utf-8")
    done = run_hook("brokerform-validate", None, tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("manifest.yaml:4:13: channels.jobs.target:")


def test_lint_hook_honours_fail_on_from_args(tmp_path):
    example = str(ROOT / "examples" / "rabbitmq-orders")
    assert run_hook("brokerform-lint", [example], tmp_path).returncode == 0
    strict = run_hook("brokerform-lint", [example, "--fail-on", "warning"], tmp_path)
    assert strict.returncode == 1
    assert "BF304" in strict.stdout


def test_hooks_configured_by_init_pass_on_the_scaffold(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["init", "topology", "--name", "shop"]).exit_code == 0
    configured = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    [repo] = configured["repos"]
    assert repo["repo"] == "https://github.com/brokerform/brokerform"
    for hook in repo["hooks"]:
        assert re.search(hook["files"], "topology/manifest.yaml") and not re.search(hook["files"], "docs/x.yaml")
        done = run_hook(hook["id"], hook["args"], tmp_path)
        assert done.returncode == 0, (hook, done.stdout, done.stderr)
