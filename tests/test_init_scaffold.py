"""`brokerform init`: a scaffold that validates, lints, plans and never clobbers a user's files."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner

from brokerform.cli import main
from brokerform.commands.init_cmd import BROKERS, PROFILES

SCAFFOLD_IN_DIR = {"manifest.yaml", "environments/dev.yaml", "environments/prod.yaml", "schemas/event.schema.json",
                   ".brokerform.yaml"}
SCAFFOLD_AT_ROOT = {".github/workflows/brokerform.yml", ".pre-commit-config.yaml"}


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts}


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """An empty git work tree as the current directory."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_init_of_a_repository_root_writes_every_file_there(repo):
    result = invoke("init", "--name", "shop")
    assert result.exit_code == 0, result.output
    assert files_under(repo) == SCAFFOLD_IN_DIR | SCAFFOLD_AT_ROOT
    assert "brokerform plan . --env dev" in result.output


def test_init_of_a_subfolder_puts_workflow_and_pre_commit_config_at_the_git_root(repo):
    result = invoke("init", "infra/topology", "--name", "shop")
    assert result.exit_code == 0, result.output
    assert files_under(repo) == {f"infra/topology/{f}" for f in SCAFFOLD_IN_DIR} | SCAFFOLD_AT_ROOT
    workflow = yaml.safe_load((repo / ".github/workflows/brokerform.yml").read_text())
    assert workflow["env"]["BROKERFORM_PATH"] == "infra/topology"
    assert workflow[True]["pull_request"]["paths"] == ["infra/topology/**", ".github/workflows/brokerform.yml"]
    hooks = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert [(h["id"], h["files"], h["args"]) for h in hooks] == [
        ("brokerform-validate", "^infra/topology/", ["infra/topology", "--env", "dev"]),
        ("brokerform-validate", "^infra/topology/", ["infra/topology", "--env", "prod"]),
        ("brokerform-lint", "^infra/topology/", ["infra/topology", "--fail-on", "error"]),
    ]


def test_init_refuses_to_overwrite_existing_files_without_force(repo):
    (repo / "manifest.yaml").write_text("# mine\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["init", "--name", "shop"])
    assert result.exit_code == 1
    assert result.output == "error: refusing to overwrite existing files (use --force to replace them):\n  manifest.yaml\n"
    assert (repo / "manifest.yaml").read_text() == "# mine\n"
    assert files_under(repo) == {"manifest.yaml"}, "nothing may be written when one file already exists"


def test_init_with_force_replaces_existing_files(repo):
    (repo / "manifest.yaml").write_text("# mine\n", encoding="utf-8")
    result = invoke("init", "--name", "shop", "--force")
    assert result.exit_code == 0, result.output
    assert (repo / "manifest.yaml").read_text().startswith("# yaml-language-server")


def test_init_rejects_a_project_name_brokers_cannot_use(repo):
    result = CliRunner().invoke(main, ["init", "--name", "Shop_Orders"])
    assert result.exit_code == 1  # invalid input, never 2 ("changes pending")
    assert "--name" in result.output
    assert files_under(repo) == set()


def test_init_derives_the_project_name_from_the_directory(repo):
    invoke("init", "Order Service")
    manifest = (repo / "Order Service" / "manifest.yaml").read_text()
    assert "  order-service-rmq:\n" in manifest
    assert 'vhost: "order-service-{{ env }}"' in manifest


@pytest.mark.parametrize("broker", BROKERS)
@pytest.mark.parametrize("environment", [None, "dev", "prod"])
def test_init_output_validates(repo, broker, environment):
    invoke("init", "--broker", broker, "--name", "shop")
    result = invoke("validate", ".", *(["--env", environment] if environment else []))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(".: valid (1 target(s), 1 channel(s), 1 file(s)")


@pytest.mark.parametrize("broker", BROKERS)
@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_init_output_lints_without_warnings(repo, broker, environment, monkeypatch):
    for name in PROFILES[broker].secrets + ("AWS_ENDPOINT_URL", "RABBITMQ_MANAGEMENT_TLS_URL"):
        monkeypatch.delenv(name, raising=False)  # other tests export the local brokers' plain-HTTP URLs
    invoke("init", "--broker", broker, "--name", "shop")
    result = CliRunner().invoke(main, ["lint", ".", "--env", environment, "--fail-on", "warning", "--format", "json"])
    assert result.exit_code == 0, result.output
    severities = {f["severity"] for f in json.loads(result.output)["findings"]}
    assert severities <= {"info"}


def test_prod_overlay_has_no_secret_defaults_and_protects_the_target(repo):
    invoke("init", "--broker", "rabbitmq", "--name", "shop")
    prod = yaml.safe_load((repo / "environments" / "prod.yaml").read_text())
    target = prod["targets"]["shop-rmq"]
    assert target["password"] == "${env:RABBITMQ_PASSWORD}"
    assert target["url"] == "${env:RABBITMQ_URL:-https://rabbitmq.prod.invalid:15671}"
    assert target["protect"] is True


@pytest.mark.rabbitmq
def test_init_rabbitmq_output_plans_against_the_local_broker(repo, service_env, monkeypatch):
    env = service_env("rabbitmq")
    name = f"init-{uuid.uuid4().hex[:8]}"
    invoke("init", "--broker", "rabbitmq", "--name", name)
    result = CliRunner().invoke(main, ["plan", ".", "--env", "dev", "--output", "json", "--detailed-exitcode"])
    assert result.exit_code == 2, result.output
    plan = json.loads(result.output)
    [target] = plan["targets"]
    assert target["target"] == f"{name}-rmq" and target["error"] is None
    created = {(c["address"]["kind"], c["address"]["name"]) for c in target["changes"] if c["action"] == "create"}
    assert ("vhost", f"{name}-dev") in created
    assert ("exchange", "events") in created
    assert ("queue", "events.audit") in created
    vhost = httpx.get(f"{env['RABBITMQ_URL']}/api/vhosts/{name}-dev", auth=(env["RABBITMQ_USERNAME"], env["RABBITMQ_PASSWORD"]))
    assert vhost.status_code == 404, "plan must not create anything"
