"""Markdown rendering of a plan, for pull-request comments."""

from __future__ import annotations

from brokerform.output.markdown import cell as _cell
from brokerform.output.markdown import code as _code
from brokerform.output.values import show
from brokerform.plan.model import Action, Plan

ICONS = {
    Action.CREATE: "➕ create",
    Action.UPDATE: "🔧 update",
    Action.REPLACE: "♻️ replace",
    Action.DELETE: "🗑️ delete",
    Action.BLOCKED: "⛔ blocked",
}
MARKER = "<!-- brokerform-plan -->"


def render_markdown(plan: Plan, title: str | None = None) -> str:
    lines = [MARKER, f"## {title or 'brokerform plan'}" + (f" ({plan.environment})" if plan.environment else ""), ""]
    lines.append(f"**{plan.summary_line()}**")
    lines.append("")
    for target in plan.targets:
        lines.append(f"### Target {_code(target.target, name=True)} ({target.type})")
        lines.append("")
        if target.error:
            errors = target.error.splitlines() or [""]
            if len(errors) == 1:
                lines += [f"> **Error:** {_cell(errors[0])}", ""]
            else:
                lines += ["> **Errors:**", ">"] + [f"> - {_cell(line)}" for line in errors] + [""]
            continue
        pending = target.pending
        if not pending:
            lines += ["No changes.", ""]
        else:
            lines += ["| Action | Resource | Changes | Notes |", "|---|---|---|---|"]
            for change in pending:
                attributes = "<br>".join(
                    f"{_code(a.path)}: {_cell(show(a.before))} → {_cell(show(a.after))}"
                    + (" (forces replacement)" if a.forces_replace else "")
                    for a in change.attributes[:12]
                    if change.action is not Action.CREATE
                ) or (f"{len(change.attributes)} properties" if change.action is Action.CREATE else "")
                notes = []
                if change.destructive:
                    held = f"{change.messages} message(s)" if change.messages is not None else "data"
                    notes.append(f"**destroys {held}**")
                if change.blocked_reason:
                    notes.append(_cell(change.blocked_reason))
                if change.refused:
                    notes.append(f"refused: {_cell(change.refused)}")
                if change.note:
                    notes.append(_cell(change.note))
                lines.append(
                    f"| {ICONS[change.action]} | `{change.address.kind}` {_code(change.address.name, name=True)} | {attributes} | {'; '.join(notes)} |"
                )
            lines.append("")
        if target.unmanaged:
            lines += [f"{len(target.unmanaged)} unmanaged resource(s) in scope are kept (use `--prune` to delete).", ""]
    return "\n".join(lines) + "\n"
