"""The `brokerform` command. Subcommands are imported only when run, so --help is fast."""

from __future__ import annotations

import importlib
import sys

import click

from brokerform import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("brokerform.commands.manifest_cmds:validate", "Check a manifest and report located errors."),
    "render": ("brokerform.commands.manifest_cmds:render", "Print the fully resolved manifest."),
    "schema": ("brokerform.commands.manifest_cmds:schema", "Write or check the manifest JSON Schema."),
    "lint": ("brokerform.commands.lint_cmd:lint", "Find anti-patterns (text, JSON, SARIF, GitHub)."),
    "plan": ("brokerform.commands.plan_cmds:plan", "Show what apply would change on the live brokers."),
    "apply": ("brokerform.commands.plan_cmds:apply", "Apply a manifest or a saved plan."),
    "drift": ("brokerform.commands.plan_cmds:drift", "Plan every target and report drift (exit 2)."),
    "import": ("brokerform.commands.import_cmd:import_group", "Write a manifest from a live broker."),
    "export": ("brokerform.commands.export_cmd:export_group", "Export to Pulumi or AsyncAPI."),
    "report": ("brokerform.commands.report_cmd:report", "Write an architecture decision report."),
    "graph": ("brokerform.commands.report_cmd:graph", "Print the topology diagram."),
    "init": ("brokerform.commands.init_cmd:init", "Scaffold a manifest repository."),
}


def load_attr(spec: str):
    module_name, attr = spec.split(":")
    return getattr(importlib.import_module(module_name), attr)


class LazyGroup(click.Group):
    """A group whose subcommands live in modules imported on first use."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str):
        if name in self.lazy:
            try:
                return load_attr(self.lazy[name][0])
            except (ImportError, AttributeError) as exc:
                return _unavailable(name, exc)
        return super().get_command(ctx, name)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        """click's standalone main, except that a usage error exits 1 like any invalid input: click's
        2 would read as "changes pending" to a CI job running `plan --detailed-exitcode`."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            exc.show()
            sys.exit(1)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt, EOFError):
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except BrokenPipeError:  # `brokerform plan | head`: as click does, quietly
            sys.stdout = None  # type: ignore[assignment]
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in self.list_commands(ctx) if name in self.lazy]
        rows += [(n, c.get_short_help_str()) for n, c in self.commands.items() if n not in self.lazy]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))


def _unavailable(name: str, exc: Exception) -> click.Command:
    @click.command(name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def command() -> None:
        raise click.ClickException(f"the {name} command is not available: {exc}")

    return command


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="brokerform")
def main() -> None:
    """brokerform: topology-as-code for message brokers.

    Exit codes: 0 success / no changes, 1 error or invalid input, 2 changes pending.
    """
    quiet_sdk_loggers()


def quiet_sdk_loggers() -> None:
    """SDKs log warnings to stderr (Azure's credential chain prints a page); brokerform reports
    the failure itself, per target. BROKERFORM_DEBUG=1 keeps their logs."""
    import logging
    import os

    if not os.environ.get("BROKERFORM_DEBUG"):
        for name in ("azure", "botocore", "boto3", "urllib3", "httpx", "confluent_kafka", "pulumi"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


if __name__ == "__main__":
    main()
