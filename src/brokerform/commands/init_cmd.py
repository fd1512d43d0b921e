"""`brokerform init`: scaffold a manifest repository so a new team starts in one command.

The manifest, its environments and `.brokerform.yaml` go into DIR; the GitHub workflow and the
pre-commit config go to the root of the git repository that holds DIR (DIR itself when it is not
inside one), because that is the only place GitHub and pre-commit look for them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from brokerform import __version__
from brokerform.commands.common import handle_errors
from brokerform.errors import BrokerformError
from brokerform.templates_path import template_dir

BROKERS = ("rabbitmq", "kafka", "azure-servicebus", "aws")
ENVIRONMENTS = ("dev", "prod")
ACTION_REF = "brokerform/brokerform@v{version}"


@dataclass(frozen=True)
class BrokerProfile:
    """What differs per broker in the scaffold."""

    target_suffix: str
    service: str  # the scripts/services name of the local broker
    extras: str  # pip extra with the broker's SDK
    secrets: tuple[str, ...]  # the ${env:...} names the workflow passes from the environment's secrets
    isolation: str


PROFILES: dict[str, BrokerProfile] = {
    "rabbitmq": BrokerProfile("rmq", "rabbitmq", "", ("RABBITMQ_URL", "RABBITMQ_AMQP_URL", "RABBITMQ_USERNAME", "RABBITMQ_PASSWORD"),
                              "virtual host"),
    "kafka": BrokerProfile("kafka", "kafka", "kafka", ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"),
                           "topic prefix"),
    "azure-servicebus": BrokerProfile("sb", "", "azure", ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP",
                                      "AZURE_SERVICEBUS_NAMESPACE", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"),
                                      "namespace"),
    "aws": BrokerProfile("aws", "moto", "aws", ("AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "name prefix"),
}

# template (under templates/init) -> where it goes: "dir/..." inside DIR, "repo/..." at the git root.
FILES: tuple[tuple[str, str], ...] = (
    ("manifest.yaml.j2", "dir/manifest.yaml"),
    ("environments/dev.yaml.j2", "dir/environments/dev.yaml"),
    ("environments/prod.yaml.j2", "dir/environments/prod.yaml"),
    ("schemas/event.schema.json.j2", "dir/schemas/event.schema.json"),
    ("brokerform.yaml.j2", "dir/.brokerform.yaml"),
    ("workflow.yml.j2", "repo/.github/workflows/brokerform.yml"),
    ("pre-commit-config.yaml.j2", "repo/.pre-commit-config.yaml"),
)


@dataclass
class Scaffold:
    directory: Path
    repo_root: Path
    files: dict[Path, str] = field(default_factory=dict)


def template_environment():
    """Jinja with [[ ]] / [% %] delimiters: the templates contain `{{ env }}` manifest templating
    and `${{ }}` GitHub expressions that must come out verbatim."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir("init"))),
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def project_name(directory: Path) -> str:
    """A name every broker accepts in vhosts, topics, queues and namespaces."""
    name = re.sub(r"[^a-z0-9]+", "-", directory.resolve().name.lower()).strip("-")
    return name or "topology"


def find_repo_root(directory: Path) -> Path:
    """The git work tree that will hold DIR, or DIR when there is none."""
    resolved = directory.resolve()
    for folder in (resolved, *resolved.parents):
        if (folder / ".git").exists():
            return folder
    return resolved


def template_context(broker: str, project: str, rel_manifest: str, *, example: bool = False,
                     version: str = __version__) -> dict[str, Any]:
    profile = PROFILES[broker]
    prefix = {"kafka": f"{project}.{{{{ env }}}}.", "aws": f"{project}-{{{{ env }}}}-"}.get(broker, "")
    files_regex = "" if rel_manifest == "." else re.escape(rel_manifest.rstrip("/")) + "/"
    return {
        "broker": broker,
        "project": project,
        "owner": f"team-{project}",
        "target": f"{project}-{profile.target_suffix}",
        "targets": [f"{project}-{profile.target_suffix}"],
        "prefix": prefix,
        "service": profile.service or broker,
        "isolation": profile.isolation,
        "extras": profile.extras,
        "secrets": list(profile.secrets),
        "environments": list(ENVIRONMENTS),
        "rel_manifest": rel_manifest,
        "paths_glob": "**" if rel_manifest == "." else f"{rel_manifest.rstrip('/')}/**",
        "files_regex": files_regex,
        "version": version,
        "action_ref": ACTION_REF.format(version=version),
        "example": example,
    }


def render_workflow(context: dict[str, Any]) -> str:
    return template_environment().get_template("workflow.yml.j2").render(**context)


def example_workflow() -> str:
    """.github/workflows/example-brokerform.yml: the documented example, rendered from the same
    template as `init` writes (a test keeps the committed file equal to this)."""
    context = template_context("rabbitmq", "orders", "topology", example=True)
    context.update(target="orders-rmq", targets=["orders-rmq"])
    return render_workflow(context)


def build_scaffold(directory: Path, broker: str, name: str | None = None) -> Scaffold:
    """Render every file of the scaffold in memory (nothing is written yet)."""
    repo_root = find_repo_root(directory)
    relative = directory.resolve().relative_to(repo_root).as_posix() if directory.resolve() != repo_root else "."
    context = template_context(broker, name or project_name(directory), relative)
    env = template_environment()
    scaffold = Scaffold(directory, repo_root)
    for template, destination in FILES:
        where, rel = destination.split("/", 1)
        path = (directory if where == "dir" else repo_root) / rel
        scaffold.files[path] = env.get_template(template).render(**context)
    return scaffold


def write_scaffold(scaffold: Scaffold, force: bool) -> list[Path]:
    existing = [p for p in scaffold.files if p.exists()]
    if existing and not force:
        listed = "\n".join(f"  {p}" for p in existing)
        raise BrokerformError(f"refusing to overwrite existing files (use --force to replace them):\n{listed}")
    for path, text in scaffold.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(scaffold.files)


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".", metavar="[DIR]")
@click.option("--broker", type=click.Choice(BROKERS), default="rabbitmq", show_default=True,
              help="The broker of the starter manifest.")
@click.option("--name", default=None, metavar="NAME",
              help="Project name used in targets, channels and vhosts/prefixes (default: DIR's name).")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@handle_errors
def init(directory: Path, broker: str, name: str | None, force: bool) -> None:
    """Scaffold a manifest directory: a starter manifest, dev/prod environments, lint config,
    a GitHub workflow (lint, plan as PR comment, apply on merge, drift) and pre-commit hooks."""
    if name is not None and not re.fullmatch(r"[a-z][a-z0-9-]{0,40}", name):
        raise click.BadParameter("use lowercase letters, digits and dashes, starting with a letter", param_hint="--name")
    directory.mkdir(parents=True, exist_ok=True)
    scaffold = build_scaffold(directory, broker, name)
    written = write_scaffold(scaffold, force)
    cwd = Path.cwd().resolve()
    for path in written:
        shown = path.resolve()
        click.echo(f"  wrote {shown.relative_to(cwd) if shown.is_relative_to(cwd) else shown}")
    shown_dir = directory.as_posix()
    profile = PROFILES[broker]
    click.echo("")
    click.echo("Next steps:")
    click.echo(f"  export {' '.join(n + '=...' for n in profile.secrets[:2])} ...   # or keep the local defaults")
    click.echo(f"  brokerform validate {shown_dir} --env dev")
    click.echo(f"  brokerform lint {shown_dir} --env dev")
    click.echo(f"  brokerform plan {shown_dir} --env dev")
    click.echo("  then commit, and set up the GitHub environments described at the top of .github/workflows/brokerform.yml")
    sys.exit(0)
