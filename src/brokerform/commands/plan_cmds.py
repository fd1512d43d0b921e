"""plan, apply and drift: the commands that talk to live brokers."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from brokerform.commands.common import (
    env_option,
    handle_errors,
    parse_vars,
    stdout_console,
    var_option,
    write_output,
)
from brokerform.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from brokerform.secrets import dumps_redacted

PLAN_NAMES = frozenset({"address", "id", "depends_on", "unmanaged", "target", "source"})
"""Plan JSON keys holding names and addresses: a password equal to a name must not rename it."""

target_option = click.option("--target", "targets", multiple=True, metavar="NAME", help="Only this target (repeatable).")
output_option = click.option(
    "--output", "output", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
plan_flags = [
    click.option("--allow-replace", is_flag=True, help="Allow changes that delete and re-create a resource."),
    click.option("--allow-data-loss", is_flag=True, help="Allow deleting or replacing resources that hold messages."),
    click.option("--prune", is_flag=True, help="Delete resources in scope that the manifest does not declare."),
]


def with_plan_flags(func):
    for option in reversed(plan_flags):
        func = option(func)
    return func


def _options(allow_replace: bool, allow_data_loss: bool, prune: bool):
    from brokerform.plan.model import PlanOptions

    return PlanOptions(allow_replace=allow_replace, allow_data_loss=allow_data_loss, prune=prune)


def plan_json(plan) -> str:
    """One line of JSON like `terraform show -json`: the C encoder only runs without indentation,
    and a 10,000-resource plan pretty-printed in pure Python takes longer than computing it."""
    return dumps_redacted(plan.to_dict(), names=PLAN_NAMES, separators=(",", ":"), default=str)


def _emit_plan(plan, output: str) -> None:
    if output == "json":
        click.echo(plan_json(plan))
    elif output == "markdown":
        from brokerform.output.plan_markdown import render_markdown

        click.echo(render_markdown(plan), nl=False)
    else:
        from brokerform.output.plan_text import render_plan

        render_plan(plan, stdout_console())


def _save_plan(plan, out: Path) -> None:
    write_output(out, plan_json(plan) + "\n")


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@env_option
@var_option
@target_option
@output_option
@click.option("--out", "out", type=click.Path(path_type=Path), help="Save the plan (JSON) for a later apply --plan.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 no changes, 2 changes, 1 error.")
@click.option("--verbose", "-v", is_flag=True, help="Show every attribute even in large plans.")
@with_plan_flags
@handle_errors
def plan(path, environment, variables, targets, output, out, detailed_exitcode, verbose, allow_replace, allow_data_loss, prune):
    """Compare the manifest with the live brokers and show what apply would do."""
    from brokerform.plan.engine import plan_manifest

    session = plan_manifest(path, environment, parse_vars(variables), _options(allow_replace, allow_data_loss, prune),
                            list(targets) or None)
    try:
        if output == "text" and verbose:
            from brokerform.output.plan_text import render_plan

            render_plan(session.plan, stdout_console(), verbose=True)
        else:
            _emit_plan(session.plan, output)
        if out and session.plan.has_errors:  # as Terraform: a plan that cannot be applied is not saved
            click.echo(f"Not saved to {out}: the plan has errors or blocked changes.", err=True)
        elif out:
            _save_plan(session.plan, out)
            if output == "text":
                click.echo(f"Saved the plan to {out}; apply it with: brokerform apply --plan {out}")
    finally:
        session.close()
    sys.exit(_plan_exit_code(session.plan, detailed_exitcode))


def _plan_exit_code(plan, detailed: bool) -> int:
    if plan.has_errors:
        return EXIT_ERROR
    if detailed and plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


def _lock_timeout_seconds(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        pass
    from brokerform.model.units import parse_duration_ms

    try:
        return parse_duration_ms(text) / 1000
    except ValueError:
        return None


class LockTimeout(click.ParamType):
    """A duration like the manifest's settings.lock_timeout (`30s`, `2m`); a plain number is
    seconds, as the option took before durations were accepted. Converts to seconds."""

    name = "duration"

    def convert(self, value, param, ctx) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds: float | None = float(value)
        else:
            seconds = _lock_timeout_seconds(str(value).strip())
        if seconds is None or not 0 <= seconds < float("inf"):
            self.fail(f"expected a duration like 30s, 2m or 1m30s, or a number of seconds; got {value!r}", param, ctx)
        return seconds


@click.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--plan", "plan_file", type=click.Path(path_type=Path), help="Apply a saved plan (refused when stale).")
@env_option
@var_option
@target_option
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--parallelism", type=click.IntRange(1, 64), default=None, help="Changes in flight at once (default 8).")
@click.option("--output", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--audit-log", type=click.Path(path_type=Path), default=None, help="Append a JSON line per apply here.")
@click.option("--lock-timeout", type=LockTimeout(), default=None,
              help="How long to wait for another apply's lock: 30s, 2m, or seconds (default settings.lock_timeout).")
@with_plan_flags
@handle_errors
def apply(path, plan_file, environment, variables, targets, auto_approve, parallelism, output, audit_log, lock_timeout,
          allow_replace, allow_data_loss, prune):
    """Apply a manifest (plan, confirm, apply) or a saved plan."""
    from brokerform.apply.runner import run_apply

    if plan_file is None and path is None:
        raise click.UsageError("give a manifest PATH or --plan FILE")
    code = run_apply(
        path=path,
        plan_file=plan_file,
        environment=environment,
        variables=parse_vars(variables),
        targets=list(targets) or None,
        options=_options(allow_replace, allow_data_loss, prune),
        auto_approve=auto_approve,
        parallelism=parallelism,
        output=output,
        audit_log=audit_log,
        lock_timeout=lock_timeout,
    )
    sys.exit(code)


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@env_option
@var_option
@target_option
@click.option("--format", "fmt", type=click.Choice(["markdown", "json", "text"]), default="markdown", show_default=True)
@handle_errors
def drift(path, environment, variables, targets, fmt):
    """Plan every target and summarise drift per target; exit 2 when any target drifted."""
    from brokerform.output.drift import render_drift
    from brokerform.plan.engine import plan_manifest

    session = plan_manifest(path, environment, parse_vars(variables), _options(False, False, False),
                            list(targets) or None)
    session.close()
    click.echo(render_drift(session.plan, fmt), nl=False)
    if session.plan.has_errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_CHANGES if session.plan.has_changes else EXIT_OK)
