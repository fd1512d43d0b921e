"""`brokerform report`, `brokerform graph` and `brokerform export asyncapi`."""

from __future__ import annotations

from pathlib import Path

import click

from brokerform.commands.common import env_option, handle_errors, load, var_option, write_output
from brokerform.errors import BrokerformError

REPORT_EXTENSIONS = {"markdown": (".md", ".markdown"), "html": (".html", ".htm")}
GRAPH_EXTENSIONS = {"mermaid": (".mmd", ".mermaid"), "dot": (".dot", ".gv"), "svg": (".svg",)}


def _printable(text: str) -> str:
    from brokerform.export.text import printable

    return printable(text)


def _write(text: str, output: Path | None) -> None:
    from brokerform.secrets import redact

    # file names that are not UTF-8 show as \xNN, not as raw bytes; no secret or URL password leaves
    text = redact(_printable(text))
    if output is None:
        click.echo(text, nl=False)
        return
    write_output(output, text)
    click.echo(f"wrote {_printable(str(output))}", err=True)


def format_for_output(fmt: str | None, output: Path | None, extensions: dict[str, tuple[str, ...]],
                      default: str, hint: str = "") -> str:
    """The output format: --format, else the -o extension (any case), else `default`. Without
    --format, an extension that belongs to no format is an error; with it, an extension that
    belongs to another format is."""
    if output is None:
        return fmt or default
    suffix = output.suffix.lower()
    by_extension = next((f for f, exts in extensions.items() if suffix in exts), None)
    if suffix and by_extension is None and fmt is None:  # with --format, any file name is the user's call
        known = ", ".join(e for exts in extensions.values() for e in exts)
        raise BrokerformError(f"-o {_printable(str(output))}: cannot tell the format from {output.suffix!r}; "
                              f"use one of {known}{hint}")
    if fmt is not None and by_extension is not None and by_extension != fmt:
        raise BrokerformError(f"-o {_printable(str(output))}: {output.suffix!r} is for {by_extension} output "
                              f"but --format is {fmt}; name the file {' or '.join(extensions[fmt])}, "
                              "or drop --format")
    return fmt or by_extension or default


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@env_option
@var_option
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default=None,
              help="Output format (default: from the -o extension, else markdown).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Write here instead of stdout.")
@click.option("--live", is_flag=True, help="Also plan against the live brokers and show drift per target.")
@click.option("--template-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder with report.md.j2 / report.html.j2 overriding the built-in templates.")
@click.option("--capabilities", "matrix", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Use this broker capability matrix instead of the built-in one.")
@click.option("--no-history", is_flag=True, help="Leave out the git decision history.")
@click.option("--no-lint", is_flag=True, help="Leave out the lint findings summary.")
@handle_errors
def report(path, environment, variables, fmt, output, live, template_dir, matrix, no_history, no_lint):
    """Write an architecture decision report (Markdown with Mermaid, or self-contained HTML).

    Set SOURCE_DATE_EPOCH to stamp the report with a reproducible time; by default it has none.
    """
    from brokerform.report.builder import ReportOptions, build_report, generated_at_from_env
    from brokerform.report.render import render_report

    fmt = format_for_output(fmt, output, REPORT_EXTENSIONS, "markdown")
    loaded = load(path, environment, variables, positions=True)
    options = ReportOptions(live=live, history=not no_history, lint=not no_lint,
                            generated_at=generated_at_from_env(), matrix_path=matrix)
    _write(render_report(build_report(loaded, options), fmt, template_dir), output)


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@env_option
@var_option
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg"]), default=None,
              help="Output format (default: from the -o extension .mmd/.mermaid, .dot/.gv or .svg, else mermaid).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Write here instead of stdout.")
@handle_errors
def graph(path, environment, variables, fmt, output):
    """Print the topology diagram alone (for docs and pull-request comments)."""
    from brokerform.report.diagram import build_diagram

    fmt = format_for_output(fmt, output, GRAPH_EXTENSIONS, "mermaid",
                            "; for an image, pipe `--format dot` through Graphviz (`dot -Tpng`)")
    loaded = load(path, environment, variables, positions=True)
    diagram = build_diagram(loaded.manifest)
    if fmt == "dot":
        from brokerform.report.dot import render_dot as render
    elif fmt == "svg":
        from brokerform.report.svg import render_svg as render
    else:
        from brokerform.report.mermaid import render_mermaid as render
    _write(render(diagram), output)


@click.command("asyncapi")
@click.argument("path", type=click.Path(path_type=Path))
@env_option
@var_option
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output file; .yaml/.yml writes YAML, anything else JSON (stdout: JSON).")
@click.option("--reference-schemas", is_flag=True, help="Reference contract schema files instead of embedding them.")
@handle_errors
def asyncapi(path, environment, variables, output, reference_schemas):
    """Write an AsyncAPI 3.0 document of the topology."""
    from brokerform.export.asyncapi import build_asyncapi, dump

    loaded = load(path, environment, variables, positions=True)
    out_dir = output.parent.resolve() if output is not None else Path.cwd()
    document = build_asyncapi(loaded, out_dir=out_dir, reference_schemas=reference_schemas)
    _write(dump(document, output), output)
