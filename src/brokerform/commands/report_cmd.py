"""`brokerform report`, `brokerform graph` and `brokerform export asyncapi`."""

from __future__ import annotations

from pathlib import Path

import click

from brokerform.commands.common import env_option, handle_errors, load, var_option


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


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

    if fmt is None:
        fmt = "html" if output is not None and output.suffix in (".html", ".htm") else "markdown"
    loaded = load(path, environment, variables, positions=True)
    options = ReportOptions(live=live, history=not no_history, lint=not no_lint,
                            generated_at=generated_at_from_env(), matrix_path=matrix)
    _write(render_report(build_report(loaded, options), fmt, template_dir), output)


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@env_option
@var_option
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg"]), default="mermaid", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Write here instead of stdout.")
@handle_errors
def graph(path, environment, variables, fmt, output):
    """Print the topology diagram alone (for docs and pull-request comments)."""
    from brokerform.report.diagram import build_diagram

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
