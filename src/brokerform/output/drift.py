"""Per-target drift summary for scheduled jobs and alerting."""

from __future__ import annotations

import json

from brokerform.output.markdown import cell, code
from brokerform.plan.model import Plan
from brokerform.secrets import redact


def drift_summary(plan: Plan) -> list[dict]:
    rows = []
    for target in plan.targets:
        counts = target.counts()
        rows.append({
            "target": target.target,
            "type": target.type,
            "status": "error" if target.error else ("drifted" if target.pending else "in sync"),
            "error": target.error,
            "changes": {k: counts[k] for k in ("create", "update", "replace", "delete", "blocked")},
            "resources": [str(c.address) for c in target.pending],
            "unmanaged": len(target.unmanaged),
        })
    return rows


def render_drift(plan: Plan, fmt: str) -> str:
    rows = drift_summary(plan)
    if fmt == "json":
        return json.dumps(redact({"environment": plan.environment, "drifted": plan.has_changes, "targets": rows}), indent=2) + "\n"
    if fmt == "text":
        return "".join(
            f"{r['target']}: {r['status']}" + (f" ({r['error']})" if r["error"] else "")
            + ("" if r["status"] != "drifted" else " — " + ", ".join(f"{v} to {k}" for k, v in r["changes"].items() if v))
            + "\n"
            for r in rows
        )
    lines = ["## brokerform drift" + (f" ({plan.environment})" if plan.environment else ""), "",
             "| Target | Type | Status | Create | Update | Replace | Delete | Blocked |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c = r["changes"]
        status = {"in sync": "✅ in sync", "drifted": "⚠️ drifted", "error": "❌ error"}[r["status"]]
        lines.append(f"| {code(r['target'])} | {r['type']} | {status} | {c['create']} | {c['update']} | {c['replace']} | {c['delete']} | {c['blocked']} |")
    for r in rows:
        if r["error"]:
            lines += ["", f"**{cell(r['target'])}**: {cell(r['error'])}"]
        elif r["resources"]:
            lines += ["", f"**{cell(r['target'])}** drifted resources:"] + [f"- {code(x)}" for x in r["resources"][:50]]
    return redact("\n".join(lines)) + "\n"
