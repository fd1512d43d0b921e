"""Render the topology diagram as a Mermaid flowchart (GitHub renders it in Markdown)."""

from __future__ import annotations

from brokerform.export.identifiers import Identifiers
from brokerform.export.text import printable
from brokerform.report.diagram import Diagram, Node

SHAPES = {
    "service": ('(["', '"])'),
    "exchange": ('{{"', '"}}'),
    "topic": ('{{"', '"}}'),
    "queue": ('["', '"]'),
    "subscription": ('>"', '"]'),
    "dlq": ('[["', '"]]'),
    "reply": ('(["', '"])'),
}
ARROWS = {
    "publish": "-->",
    "route": "-->",
    "consume": "-->",
    "dead-letter": "-.->",
    "forward": "==>",
    "reply": "-.->",
    "alternate": "-.->",
}


def escape(text: str) -> str:
    """Mermaid quoted-label escaping: entity codes for quotes, hashes and brackets; `%` too, so a
    name holding `%%{init: ...}%%` is no directive (Mermaid looks for those anywhere in the text),
    and a backtick, so a label is no Markdown string. Line breaks become spaces."""
    return (
        printable(text).replace("#", "#35;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("|", "#124;")
        .replace("%", "#37;")
        .replace("`", "#96;")
        .replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    )


def node_ids(diagram: Diagram) -> dict[str, str]:
    return {node_id: f"n{index}" for index, node_id in enumerate(diagram.nodes)}


def subgraph_ids(diagram: Diagram, prefix: str) -> dict[str, str]:
    """One identifier per target (`r<1` and `r>1` both sanitise to `r_1`: the second gets `r_1_2`)."""
    names = Identifiers(lambda target: prefix + ids_safe(target))
    return {target: names(target) for target in diagram.targets}


def _label(node: Node) -> str:
    text = escape(node.label)
    if node.detail:
        text += f"<br/><small>{escape(node.detail)}</small>"
    return text


def _node_line(short: str, node: Node) -> str:
    left, right = SHAPES.get(node.kind, SHAPES["queue"])
    return f"{short}{left}{_label(node)}{right}"


def render_mermaid(diagram: Diagram) -> str:
    ids = node_ids(diagram)
    groups_ids = subgraph_ids(diagram, "t_")
    lines = ["flowchart LR"]
    for node_id, node in diagram.nodes.items():
        if node.target is None:
            lines.append("    " + _node_line(ids[node_id], node))
    for target, broker in diagram.targets.items():
        members = [(nid, n) for nid, n in diagram.nodes.items() if n.target == target]
        if not members:
            continue
        lines.append(f'    subgraph {groups_ids[target]}["{escape(target)} ({escape(broker)})"]')
        for node_id, node in members:
            lines.append("        " + _node_line(ids[node_id], node))
        lines.append("    end")
    dashed = []
    for index, edge in enumerate(diagram.edges):
        arrow = ARROWS.get(edge.kind, "-->")
        label = f'|"{escape(edge.label)}"|' if edge.label else ""
        lines.append(f"    {ids[edge.source]} {arrow}{label} {ids[edge.dest]}")
        if edge.kind == "dead-letter":
            dashed.append(str(index))
    lines.append("    classDef service fill:#eef6ff,stroke:#3b6ea8")
    lines.append("    classDef hub fill:#fff4e0,stroke:#b7791f")
    lines.append("    classDef queue fill:#f0fff4,stroke:#2f855a")
    lines.append("    classDef dlq fill:#fff5f5,stroke:#c53030,stroke-dasharray:4 3")
    groups = {"service": [], "hub": [], "queue": [], "dlq": []}
    for node_id, node in diagram.nodes.items():
        group = {"service": "service", "exchange": "hub", "topic": "hub", "dlq": "dlq"}.get(node.kind, "queue")
        groups[group].append(ids[node_id])
    for group, members in groups.items():
        if members:
            lines.append(f"    class {','.join(members)} {group}")
    if dashed:
        lines.append(f"    linkStyle {','.join(dashed)} stroke:#c53030")
    return "\n".join(lines) + "\n"


def ids_safe(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)
