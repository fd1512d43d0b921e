"""Terraform-like terminal rendering of a plan: symbols, aligned diffs, destructive in red."""

from __future__ import annotations

import functools
from typing import Callable

from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from rich.text import Text

from brokerform.output.values import show
from brokerform.plan.model import Action, Change, Plan, TargetPlan
from brokerform.secrets import redact, redact_name

SYMBOLS = {
    Action.CREATE: ("+", "green"),
    Action.UPDATE: ("~", "yellow"),
    Action.REPLACE: ("-/+", "red"),
    Action.DELETE: ("-", "red"),
    Action.BLOCKED: ("!", "bold red"),
}
COMPACT_ABOVE = 300


def render_plan(plan: Plan, console: Console, *, verbose: bool = False) -> None:
    for target in plan.targets:
        _render_target(target, console, verbose)
    style = "bold red" if plan.has_errors else "bold"
    console.print(Text(plan.summary_line(), style=style))
    refused = [c for t in plan.targets for c in t.refused]
    if refused:
        console.print(Text(
            f"{len(refused)} change(s) are refused as planned; apply will not start without the flags named above.",
            style="bold red",
        ))


def _render_target(target: TargetPlan, console: Console, verbose: bool) -> None:
    header = Text(f"Target {target.target} ({target.type})", style="bold")
    console.print(header)
    if target.error:
        for line in redact(target.error).splitlines():
            console.print(Text(f"  error: {line}", style="bold red"))
        console.print()
        return
    pending = target.pending
    if not pending:
        console.print(Text("  No changes. Live state matches the manifest.", style="green"))
    compact = len(pending) > COMPACT_ABOVE and not verbose
    lines: list[Text] = []
    for change in pending:
        _render_change(change, lines, compact)
    if compact:
        _write_lines(lines, console)
    elif lines:
        console.print(Text("\n").join(lines))  # at once: rich renders one large Text faster than many
    if target.unmanaged:
        console.print(Text(
            f"  {len(target.unmanaged)} unmanaged resource(s) in scope (kept; use --prune to delete): "
            + ", ".join(redact_name(str(a)) for a in target.unmanaged[:10]) + (" ..." if len(target.unmanaged) > 10 else ""),
            style="dim",
        ))
    counts = target.counts()
    console.print(Text(
        f"  {counts['create']} to create, {counts['update']} to update, {counts['replace']} to replace, "
        f"{counts['delete']} to delete" + (f", {counts['blocked']} blocked" if counts["blocked"] else "") + ".",
        style="dim",
    ))
    console.print()


def _render_change(change: Change, lines: list[Text], compact: bool) -> None:
    symbol, colour = SYMBOLS[change.action]
    style = "bold red" if change.destructive else colour
    line = Text(f"  {symbol} ", style=style)
    line.append(f"{change.address.kind} ", style=style)
    line.append(redact_name(_name(change)), style="bold " + style if "bold" not in style else style)  # an SNS endpoint URL
    notes = []
    if change.action is Action.REPLACE and change.forces_replace:
        notes.append("# forces replacement")
    if change.note:
        notes.append(f"# {change.note}")
    if change.destructive:
        held = f"{change.messages} message(s)" if change.messages is not None else "data"
        notes.append(f"# DESTROYS {held}")
    if notes:
        line.append("  " + "  ".join(notes), style="bold red" if change.destructive else "dim")
    lines.append(line)
    if change.action is Action.BLOCKED:
        lines.append(Text(f"      BLOCKED: {redact(change.blocked_reason or '')}", style="bold red"))
    if change.refused:
        lines.append(Text(f"      refused: {redact(change.refused)}", style="bold red"))
    if compact or change.action is Action.DELETE:
        return
    attributes = change.attributes
    if not attributes:
        return
    width = max(len(a.path) for a in attributes)
    for attribute in attributes:
        if change.action is Action.CREATE:
            text = Text(f"      + {attribute.path.ljust(width)} = {redact(show(attribute.after))}", style="green")
        else:
            text = Text(
                f"      ~ {attribute.path.ljust(width)}   {redact(show(attribute.before))} -> {redact(show(attribute.after))}",
                style="red" if attribute.forces_replace else "yellow",
            )
            if attribute.forces_replace:
                text.append("   # forces replacement", style="red")
        lines.append(text)


_COLOR_SYSTEMS = {"standard": ColorSystem.STANDARD, "256": ColorSystem.EIGHT_BIT, "truecolor": ColorSystem.TRUECOLOR}


def _write_lines(lines: list[Text], console: Console) -> None:
    """Thousands of one-line changes, written as rich would print them without wrapping.

    rich lays out and measures every line (0.2 s for 2,000 lines); these lines need none of that,
    so each span's style is turned into escape codes directly (plain text when colour is off)."""
    color_system = _COLOR_SYSTEMS.get(console.color_system or "")
    if console.legacy_windows or console.record or (console.color_system and color_system is None):
        console.print(Text("\n").join(lines), soft_wrap=True)
        return
    render = functools.partial(_styled, color_system=color_system, no_color=console.no_color)
    console.file.write("".join(_line(line, render) + "\n" for line in lines))
    console.file.flush()


def _line(line: Text, render: Callable[[str, str | Style, str | Style], str]) -> str:
    plain, base, parts, at = line.plain, line.style, [], 0
    for span in line.spans:  # built by append: in order, side by side
        if span.start > at:
            parts.append(render(plain[at:span.start], base, ""))
        parts.append(render(plain[span.start:span.end], base, span.style))
        at = span.end
    if at < len(plain):
        parts.append(render(plain[at:], base, ""))
    return "".join(parts)


def _styled(text: str, base: str | Style, extra: str | Style, *, color_system: ColorSystem | None,
            no_color: bool) -> str:
    if color_system is None or not text:
        return text
    style = _style(base, extra)
    return (style.without_color if no_color else style).render(text, color_system=color_system)


@functools.lru_cache(maxsize=64)
def _style(base: str | Style, extra: str | Style) -> Style:
    return _parsed(base) + _parsed(extra)


def _parsed(style: str | Style) -> Style:
    return Style.parse(style) if isinstance(style, str) else style


def _name(change: Change) -> str:
    address = change.address
    return f"{address.scope}/{address.name}" if address.scope else address.name
