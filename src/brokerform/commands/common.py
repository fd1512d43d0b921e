"""What every command shares: error reporting without tracebacks, options, consoles."""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

import click

from brokerform.errors import EXIT_ERROR, BrokerformError
from brokerform.secrets import redact


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout_console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_ERROR) -> None:
    click.echo(redact(message), err=True)
    sys.exit(code)


def handle_errors(func: Callable) -> Callable:
    """Turn every failure into a message and exit 1; a traceback only with BROKERFORM_DEBUG=1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BrokerformError as exc:
            if exc.problems:
                for problem in exc.problems:
                    click.echo(redact(str(problem)), err=True)
                click.echo(f"error: {len(exc.problems)} problem(s) found", err=True)
            else:
                click.echo(f"error: {redact(exc.message)}", err=True)
            sys.exit(EXIT_ERROR)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except OSError as exc:  # an output path that cannot be written, a file that vanished, ...
            if os.environ.get("BROKERFORM_DEBUG"):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{redact(exc.strerror or str(exc))}", err=True)
            sys.exit(EXIT_ERROR)
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            if os.environ.get("BROKERFORM_DEBUG"):
                raise
            click.echo(f"error: internal error: {type(exc).__name__}: {redact(str(exc))}", err=True)
            click.echo("(set BROKERFORM_DEBUG=1 for a traceback and please report it)", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper


def parse_vars(values: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--var")
        out[key.strip()] = value
    return out


manifest_path = click.argument("path", type=click.Path(path_type=Path), metavar="PATH")
def _environment_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An overlay name, not a path: `--env ../prod` would read a file outside environments/."""
    if value is not None and (not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value) or ".." in value):
        raise click.BadParameter(f"{value!r} is not an environment name: letters, digits, '_', '.' and '-', "
                                 "naming environments/NAME.yaml")
    return value


env_option = click.option("--env", "environment", metavar="NAME", callback=_environment_name,
                          help="Apply environments/NAME.yaml overlay.")
var_option = click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help="Template variable.")


def load(path: Path, environment: str | None, variables: tuple[str, ...], *, positions: bool = False):
    from brokerform.manifest.loader import load_manifest

    return load_manifest(path, environment, parse_vars(variables), positions=positions)


def url_option(*schemes: str) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    """A click callback: a URL option with a scheme and a host, checked like the manifest's fields."""
    from brokerform.model.base import url_problem

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        problem = url_problem(value, schemes) if value is not None else None
        if problem:
            raise click.BadParameter(problem)
        return value

    return check


def bootstrap_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback for --bootstrap-servers, checked like the manifest's field."""
    from brokerform.model.base import bootstrap_problem

    problem = bootstrap_problem(value) if value is not None else None
    if problem:
        raise click.BadParameter(f"{problem}; expected host:port[,host:port...]")
    return value


def write_output(path: Path, text: str) -> None:
    """Write a command's output file (creating its folder), failures named by path and cause:
    `OSError` alone says "File exists" when a parent is a file, and gives no path on a full disk."""
    blocking = next((parent for parent in reversed(path.parents) if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise BrokerformError(f"{path}: cannot create it: {blocking} is a file, not a folder")
    if path.is_dir():
        raise BrokerformError(f"{path}: is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BrokerformError(f"{path}: cannot write it: {exc.strerror or exc}") from None
