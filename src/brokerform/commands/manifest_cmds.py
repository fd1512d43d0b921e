"""validate, render and schema: the manifest-only commands (no broker needed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from brokerform.commands.common import env_option, handle_errors, load, manifest_path, var_option, write_output


@click.command()
@manifest_path
@env_option
@var_option
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@handle_errors
def validate(path: Path, environment: str | None, variables: tuple[str, ...], quiet: bool) -> None:
    """Check a manifest: YAML, types, references, broker support. Exit 1 with located errors."""
    from brokerform.compile import compile_manifest

    loaded = load(path, environment, variables)
    compile_manifest(loaded)
    if not quiet:
        m = loaded.manifest
        click.echo(
            f"{path}: valid ({len(m.targets)} target(s), {len(m.channels)} channel(s), "
            f"{len(loaded.files)} file(s){', env ' + environment if environment else ''})"
        )


@click.command()
@manifest_path
@env_option
@var_option
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@handle_errors
def render(path: Path, environment: str | None, variables: tuple[str, ...], fmt: str) -> None:
    """Print the fully resolved manifest (templates, files and overlay merged; secrets stay references)."""
    from brokerform.secrets import redact

    loaded = load(path, environment, variables)
    data = redact(loaded.manifest.model_dump(mode="json", by_alias=True, exclude_defaults=True))
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=False))
    else:
        import yaml

        click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)


SCHEMA_PATH = Path("schemas") / "manifest.schema.json"


def schema_text() -> str:
    from brokerform.model import Manifest

    schema = Manifest.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://brokerform.dev/schemas/manifest.schema.json"
    schema["title"] = "brokerform manifest"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 when the committed schema differs from the models.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Where to write (default schemas/manifest.schema.json).")
@handle_errors
def schema(check: bool, output: Path | None) -> None:
    """Write the manifest JSON Schema (for editors and CI) generated from the models."""
    target = output or _default_schema_path()
    text = schema_text()
    if check:
        if not target.is_file():
            what = "is a folder" if target.is_dir() else "does not exist"
            click.echo(f"{target} {what}; run `brokerform schema` to write it", err=True)
            sys.exit(1)
        try:
            current = target.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            current = None  # not the schema brokerform writes: out of date
        if current != text:
            click.echo(f"{target} is out of date; run `brokerform schema`", err=True)
            sys.exit(1)
        click.echo(f"{target} is up to date")
        return
    write_output(target, text)
    click.echo(f"wrote {target}")


def _default_schema_path() -> Path:
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "schemas").is_dir():
            return folder / SCHEMA_PATH
    return here / SCHEMA_PATH
