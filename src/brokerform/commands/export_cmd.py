"""`brokerform export`: Pulumi programs and AsyncAPI documents."""

from __future__ import annotations

from pathlib import Path

import click

from brokerform.cli import LazyGroup
from brokerform.commands.common import env_option, handle_errors, load, var_option
from brokerform.errors import BrokerformError

PULUMI_EXPORTERS = {
    "aws": "brokerform.export.pulumi_aws:export_program",
    "azure-servicebus": "brokerform.export.pulumi_azure:export_program",
}


def check_output_dir(out_dir: Path) -> None:
    """The project directory must be a directory, or not exist yet (it is created)."""
    for folder in (out_dir, *out_dir.parents):
        if folder.exists():
            if not folder.is_dir():
                if folder == out_dir:
                    raise BrokerformError(f"-o {out_dir}: exists and is not a directory; "
                                          "give a new or existing directory for the Pulumi project")
                raise BrokerformError(f"-o {out_dir}: {folder} exists and is not a directory, "
                                      "so the project directory cannot be created there")
            return


@click.command("pulumi")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--target", "target_name", required=True, metavar="NAME", help="The target to export.")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), required=True, help="Project directory.")
@env_option
@var_option
@handle_errors
def pulumi(path: Path, target_name: str, out_dir: Path, environment, variables) -> None:
    """Write a standalone Pulumi Python project equivalent to what apply would create."""
    from brokerform.cli import load_attr
    from brokerform.compile import compile_manifest

    check_output_dir(out_dir)
    loaded = load(path, environment, variables)
    desired = compile_manifest(loaded, [target_name])[target_name]
    spec = PULUMI_EXPORTERS.get(desired.type)
    if spec is None:
        raise BrokerformError(
            f"Pulumi export supports {', '.join(sorted(PULUMI_EXPORTERS))} targets; {target_name} is {desired.type}"
        )
    written = load_attr(spec)(loaded, desired, out_dir)
    for file in written:
        click.echo(f"wrote {file}")


@click.group("export", cls=LazyGroup, lazy={
    "asyncapi": ("brokerform.commands.report_cmd:asyncapi", "Write an AsyncAPI 3.0 document."),
})
def export_group() -> None:
    """Export the topology to other tools."""


export_group.add_command(pulumi)
