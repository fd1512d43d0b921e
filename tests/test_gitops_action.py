"""The composite action (action.yml), run locally step by step as the GitHub runner would.

Each `run:` step is executed with bash after substituting its `${{ ... }}` expressions, with
GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, and GITHUB_ACTION_PATH pointing at a copy of this
checkout (the action installs brokerform from its own checkout when `version` is empty). The
install goes into a throw-away virtualenv that sees the machine's packages, so nothing is
downloaded except the build backend.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "rabbitmq-orders"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
EXPRESSION = re.compile(r"\$\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")


@dataclass
class ActionRun:
    returncode: int
    outputs: dict[str, str]
    stdout: str
    stderr: str
    step_summary: str


def substitute(text: str, context: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        key = match.group(1)
        if key not in context:
            raise AssertionError(f"action.yml uses an expression this test does not know: {match.group(0)}")
        return context[key]

    return EXPRESSION.sub(value, text)


def step_condition_holds(step: dict, context: dict[str, str]) -> bool:
    condition = step.get("if")
    if condition is None:
        return True
    match = re.fullmatch(r"inputs\.([\w-]+) != ''", condition.strip())
    assert match, f"unsupported condition in action.yml: {condition}"
    return context[f"inputs.{match.group(1)}"] != ""


def inputs_with_defaults(given: dict[str, str]) -> dict[str, str]:
    unknown = set(given) - set(ACTION["inputs"])
    assert not unknown, f"not inputs of the action: {unknown}"
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values.update(given)
    missing = [n for n, spec in ACTION["inputs"].items() if spec.get("required") and not values[n]]
    assert not missing, f"required inputs missing: {missing}"
    return values


def run_action(workdir: Path, action_path: Path, venv: Path, skip_install: bool = True, **given: str) -> ActionRun:
    """Run the action's steps in order, stopping at the first failing one, like a runner."""
    inputs = inputs_with_defaults({"python-version": "", **given})
    temp = workdir / "runner-temp"
    temp.mkdir(exist_ok=True)
    output_file, summary_file = temp / "github_output", temp / "step_summary"
    context = {f"inputs.{k}": v for k, v in inputs.items()}
    context.update({"github.action_path": str(action_path), "runner.temp": str(temp)})
    base_env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
                "VIRTUAL_ENV": str(venv), "GITHUB_ACTION_PATH": str(action_path),
                "GITHUB_STEP_SUMMARY": str(summary_file), "RUNNER_TEMP": str(temp)}
    stdout = stderr = ""
    returncode = 0
    for step in ACTION["runs"]["steps"]:
        if not step_condition_holds(step, context):
            continue
        if "uses" in step:
            raise AssertionError(f"a `uses:` step would run here: {step['uses']}")
        if skip_install and step["name"] == "Install brokerform":
            continue
        output_file.write_text("", encoding="utf-8")
        env = {**base_env, "GITHUB_OUTPUT": str(output_file)}
        env.update({k: substitute(str(v), context) for k, v in step.get("env", {}).items()})
        script = substitute(step["run"], context)
        done = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
                              cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False)
        stdout, stderr = stdout + done.stdout, stderr + done.stderr
        for line in output_file.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if step.get("id"):
                context[f"steps.{step['id']}.outputs.{key}"] = value
        returncode = done.returncode
        if returncode != 0:
            break
    outputs = {name: substitute(spec["value"], {k: context.get(k, "") for k in _referenced(spec["value"])})
               for name, spec in ACTION["outputs"].items()}
    summary = summary_file.read_text(encoding="utf-8") if summary_file.exists() else ""
    return ActionRun(returncode, outputs, stdout, stderr, summary)


def _referenced(text: str) -> list[str]:
    return EXPRESSION.findall(text)


@pytest.fixture(scope="module")
def action_checkout(tmp_path_factory) -> Path:
    """What `uses: brokerform/brokerform@ref` checks out: the action and the package sources."""
    folder = tmp_path_factory.mktemp("action")
    for name in ("action.yml", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, folder / name)
    for tree in ("src", "templates"):
        shutil.copytree(ROOT / tree, folder / tree, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    return folder


@pytest.fixture(scope="module")
def installed(tmp_path_factory, action_checkout) -> Path:
    """A virtualenv where the action's install step installed brokerform from its checkout."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    workdir = tmp_path_factory.mktemp("install")
    run = run_action(workdir, action_checkout, venv, skip_install=False, command="validate", path=str(EXAMPLE))
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"pip install {action_checkout}\n" in run.stdout
    return venv


@pytest.fixture
def workdir(tmp_path) -> Path:
    return tmp_path


def test_the_action_declares_the_documented_interface():
    assert set(ACTION["inputs"]) >= {"command", "path", "env", "target", "version", "extras", "args"}
    assert set(ACTION["outputs"]) >= {"has-changes", "plan-file", "summary"}
    assert ACTION["runs"]["using"] == "composite"
    assert all(step.get("shell") == "bash" for step in ACTION["runs"]["steps"] if "run" in step)


def test_install_step_installs_brokerform_from_the_action_checkout(installed, action_checkout):
    brokerform = installed / "bin" / "brokerform"
    version = subprocess.run([str(brokerform), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == "brokerform, version 0.1.0"
    location = subprocess.run([str(installed / "bin" / "python"), "-c", "import brokerform; print(brokerform.__file__)"],
                              capture_output=True, text=True, check=True).stdout
    assert location.startswith(str(installed)), "the action's copy must win over any other install"


def test_installed_package_ships_the_init_templates(installed, workdir):
    done = subprocess.run([str(installed / "bin" / "brokerform"), "init", "scaffold", "--name", "shipped"],
                          cwd=workdir, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert (workdir / "scaffold" / "manifest.yaml").is_file()
    assert (workdir / "scaffold" / ".github" / "workflows" / "brokerform.yml").is_file()


def test_validate_succeeds_without_changes(installed, action_checkout, workdir):
    run = run_action(workdir, action_checkout, installed, command="validate", path=str(EXAMPLE))
    assert run.returncode == 0, run.stderr
    assert run.outputs["has-changes"] == "false"
    assert run.outputs["exit-code"] == "0"
    assert run.outputs["summary"] == f"{EXAMPLE}: valid (1 target(s), 2 channel(s), 1 file(s))"
    assert run.outputs["plan-file"] == ""
    assert f"{EXAMPLE}: valid" in run.step_summary


def test_validate_of_an_invalid_manifest_fails_the_step_with_the_located_error(installed, action_checkout, workdir):
    manifest = workdir / "bad.yaml"
    manifest.write_text("brokerform: 1\ntargets:\n  t:\n    type: rabbitmq\n    url: 42x\n    nonsense: 1\n", encoding="utf-8")
    run = run_action(workdir, action_checkout, installed, command="validate", path=str(manifest))
    assert run.returncode == 1
    assert f"{manifest}:6:5: targets.t.nonsense:" in run.stdout
    assert run.outputs["exit-code"] == "1"
    assert "::error::brokerform validate failed (exit code 1)" in run.stdout


def test_lint_writes_sarif_and_annotations(installed, action_checkout, workdir):
    run = run_action(workdir, action_checkout, installed, command="lint", path=str(EXAMPLE), **{"sarif-file": "out.sarif"})
    assert run.returncode == 0, run.stderr
    assert run.outputs["sarif-file"] == "out.sarif"
    sarif = json.loads((workdir / "out.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"BF304", "BF101"}
    assert re.fullmatch(r"\d+ finding\(s\): 0 error\(s\), \d+ warning\(s\), \d+ info", run.outputs["summary"])
    assert "::warning file=" in run.stdout


def test_lint_args_reach_brokerform_and_fail_the_step(installed, action_checkout, workdir):
    run = run_action(workdir, action_checkout, installed, command="lint", path=str(EXAMPLE), args="--fail-on warning")
    assert run.returncode == 1
    assert run.outputs["exit-code"] == "1"
    assert (workdir / "brokerform.sarif").is_file(), "the SARIF report is written even when lint fails"


def test_an_unknown_command_fails_with_a_clear_message(installed, action_checkout, workdir):
    run = run_action(workdir, action_checkout, installed, command="destroy")
    assert run.returncode == 1
    assert "unknown command 'destroy'" in run.stdout


def unreachable_manifest(folder: Path) -> Path:
    path = folder / "unreachable.yaml"
    path.write_text(
        "brokerform: 1\n"
        "targets:\n"
        "  gone:\n"
        "    type: rabbitmq\n"
        "    url: http://127.0.0.1:9\n"
        "    password: ${env:NOPE_PASSWORD:-x}\n"
        "    timeout: 2s\n"
        "channels:\n"
        "  jobs:\n"
        "    target: gone\n"
        "    pattern: point-to-point\n",
        encoding="utf-8",
    )
    return path


def test_drift_against_an_unreachable_broker_fails_but_still_reports(installed, action_checkout, workdir):
    run = run_action(workdir, action_checkout, installed, command="drift", path=str(unreachable_manifest(workdir)))
    assert run.returncode == 1
    assert run.outputs == {**run.outputs, "exit-code": "1", "has-changes": "false",
                           "summary": "0 target(s) drifted, 1 target(s) failed"}
    report = Path(run.outputs["report-file"]).read_text(encoding="utf-8")
    assert "| `gone` | rabbitmq | ❌ error |" in report
    assert report in run.step_summary


@pytest.mark.rabbitmq
def test_plan_maps_exit_code_2_to_has_changes_and_saves_the_plan(installed, action_checkout, workdir, service_env):
    service_env("rabbitmq")
    name = f"act-{uuid.uuid4().hex[:8]}"
    subprocess.run([str(installed / "bin" / "brokerform"), "init", "topology", "--name", name],
                   cwd=workdir, capture_output=True, check=True, timeout=60)
    run = run_action(workdir, action_checkout, installed, command="plan", path="topology", env="dev",
                     target=f"{name}-rmq", **{"plan-file": "plans/dev.json"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["has-changes"] == "true"
    assert run.outputs["exit-code"] == "2"
    assert run.outputs["plan-file"] == "plans/dev.json"
    assert re.fullmatch(r"Plan: \d+ to create, 0 to update, 0 to replace, 0 to delete\.", run.outputs["summary"])
    assert run.outputs["report-file"] == "plans/dev.md"
    report = (workdir / "plans" / "dev.md").read_text(encoding="utf-8")
    assert report.startswith("<!-- brokerform-plan -->\n## brokerform plan (dev)\n")
    assert f"### Target `{name}-rmq` (rabbitmq)" in report
    saved = json.loads((workdir / "plans" / "dev.json").read_text(encoding="utf-8"))
    assert (saved["manifest"]["environment"], saved["manifest"]["path"], saved["has_changes"]) == ("dev", "topology", True)
    assert report in run.step_summary
