"""Render the topology diagram as Graphviz DOT (for people who have `dot`)."""

from __future__ import annotations

from brokerform.export.text import printable
from brokerform.report.diagram import Diagram, Node
from brokerform.report.mermaid import node_ids, subgraph_ids

SHAPES = {
    "service": 'shape=box, style="rounded,filled", fillcolor="#eef6ff", color="#3b6ea8"',
    "exchange": 'shape=hexagon, style=filled, fillcolor="#fff4e0", color="#b7791f"',
    "topic": 'shape=hexagon, style=filled, fillcolor="#fff4e0", color="#b7791f"',
    "queue": 'shape=box, style=filled, fillcolor="#f0fff4", color="#2f855a"',
    "subscription": 'shape=cds, style=filled, fillcolor="#f0fff4", color="#2f855a"',
    "dlq": 'shape=box, style="dashed,filled", fillcolor="#fff5f5", color="#c53030"',
    "reply": 'shape=box, style="rounded,dashed", color="#6b46c1"',
}
EDGE_STYLES = {
    "publish": "",
    "route": "",
    "consume": "",
    "dead-letter": 'style=dashed, color="#c53030"',
    "forward": 'style=bold, color="#6b46c1"',
    "reply": 'style=dotted, color="#6b46c1"',
    "alternate": 'style=dashed, color="#718096"',
}


def quote(text: str) -> str:
    return '"' + printable(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node(short: str, node: Node) -> str:
    label = node.label + (f"\n{node.detail}" if node.detail else "")
    return f"{short} [label={quote(label)}, {SHAPES.get(node.kind, SHAPES['queue'])}];"


def render_dot(diagram: Diagram) -> str:
    ids = node_ids(diagram)
    clusters = subgraph_ids(diagram, "cluster_")
    lines = [
        "digraph topology {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for node_id, node in diagram.nodes.items():
        if node.target is None:
            lines.append("  " + _node(ids[node_id], node))
    for target, broker in diagram.targets.items():
        members = [(nid, n) for nid, n in diagram.nodes.items() if n.target == target]
        if not members:
            continue
        lines.append(f"  subgraph {clusters[target]} {{")
        lines.append(f"    label={quote(f'{target} ({broker})')}; style=rounded; color=\"#a0aec0\";")
        for node_id, node in members:
            lines.append("    " + _node(ids[node_id], node))
        lines.append("  }")
    for edge in diagram.edges:
        attrs = [a for a in (EDGE_STYLES.get(edge.kind, ""), f"label={quote(edge.label)}" if edge.label else "") if a]
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {ids[edge.source]} -> {ids[edge.dest]}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"
