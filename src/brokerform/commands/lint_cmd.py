"""`brokerform lint`: anti-pattern rules over a manifest, for terminals, CI and code scanning."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from brokerform.commands.common import env_option, handle_errors, load, var_option, write_output
from brokerform.errors import EXIT_ERROR, EXIT_OK

FORMATS = ("text", "json", "sarif", "github")
LIST_FORMATS = ("text", "json")  # a rule listing has no findings to annotate or upload


@click.command()
@click.argument("path", type=click.Path(path_type=Path), metavar="PATH", required=False)
@env_option
@var_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error", show_default=True,
              help="Exit 1 when a finding has this severity or a higher one.")
@click.option("--list-rules", is_flag=True, help="List every rule (text, or --format json) and exit.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Write the report to FILE.")
@click.option("--config", "config_files", multiple=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Lint configuration file(s) to use instead of the discovered .brokerform.yaml.")
@handle_errors
def lint(path: Path | None, environment: str | None, variables: tuple[str, ...], fmt: str, fail_on: str,
         list_rules: bool, output: Path | None, config_files: tuple[Path, ...]) -> None:
    """Find anti-patterns in a manifest.

    Configure rules in the manifest's `lint:` section or in `.brokerform.yaml`; suppress one
    finding with `# brokerform:ignore BF201 -- reason` on its line or on its resource's key.
    Exit 1 when a finding reaches --fail-on (default: error), or when the manifest is invalid.
    """
    if list_rules:
        if fmt not in LIST_FORMATS:
            raise click.UsageError(f"--list-rules prints text or --format json, not --format {fmt}")
        _emit(_rules_listing(fmt), output)
        sys.exit(EXIT_OK)
    if path is None:
        raise click.UsageError("missing argument PATH (or use --list-rules)")
    from brokerform.lint.engine import run_lint
    from brokerform.lint.output import render

    loaded = load(path, environment, variables, positions=True)
    result = run_lint(loaded, environment, config_files=list(config_files) if config_files else None)
    _emit(render(fmt, result, manifest_path=path), output)
    if output is not None:  # the report went to a file: the log still shows the outcome
        from brokerform.lint.output.text_format import summary

        click.echo(summary(result), err=True)
    sys.exit(EXIT_ERROR if result.fails(fail_on) else EXIT_OK)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    write_output(output, text)


def _rules_listing(fmt: str) -> str:
    from brokerform.lint.registry import all_rules

    rules = [r.metadata() for r in all_rules()]
    if fmt == "json":
        return json.dumps(rules, indent=2) + "\n"
    lines = [f"{r['id']}  {r['severity']:<7}  {r['name']:<42}  {', '.join(r['brokers'])}" for r in rules]
    return "\n".join(lines) + "\n"
