"""Render the topology diagram as a self-contained SVG with a small layered layout.

Pure Python (no Graphviz): columns are longest-path layers of the flow edges, rows
are ordered by a few barycenter sweeps, edges are cubic curves. The SVG embeds its
own styles and uses generic font families only, so it makes no external request.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from brokerform.report.diagram import Diagram, Edge, Node

NODE_HEIGHT = 44
ROW_GAP = 18
COLUMN_GAP = 110
MARGIN = 20
CHAR_WIDTH = 6.6
MAX_LABEL_CHARS = 34
PALETTE = ["#3182ce", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#319795", "#718096"]
EDGE_CLASS = {
    "publish": "flow",
    "route": "flow",
    "consume": "flow",
    "dead-letter": "dlq",
    "forward": "forward",
    "reply": "reply",
    "alternate": "alternate",
}
LAYERING_EDGES = {"publish", "route", "consume", "dead-letter", "forward", "alternate", "reply"}

STYLE = """
.bf-node rect.box{stroke-width:1.4}
.bf-node text{font-family:ui-sans-serif,system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:12px;fill:#1a202c}
.bf-node text.detail{font-size:10px;fill:#4a5568}
.k-service rect.box{fill:#eef6ff;stroke:#3b6ea8}
.k-exchange rect.box,.k-topic rect.box{fill:#fff4e0;stroke:#b7791f}
.k-queue rect.box,.k-subscription rect.box{fill:#f0fff4;stroke:#2f855a}
.k-dlq rect.box{fill:#fff5f5;stroke:#c53030;stroke-dasharray:5 3}
.k-reply rect.box{fill:#faf5ff;stroke:#6b46c1;stroke-dasharray:2 2}
.bf-edge path{fill:none;stroke-width:1.4}
.e-flow path{stroke:#4a5568}
.e-dlq path{stroke:#c53030;stroke-dasharray:6 4}
.e-forward path{stroke:#6b46c1;stroke-width:2.4}
.e-reply path{stroke:#6b46c1;stroke-dasharray:2 3}
.e-alternate path{stroke:#718096;stroke-dasharray:6 4}
.bf-edge text,.bf-legend text{font-family:ui-sans-serif,system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:10px;fill:#2d3748}
.bf-edge rect{fill:#ffffff;fill-opacity:0.85}
"""
MARKER_COLORS = {"flow": "#4a5568", "dlq": "#c53030", "forward": "#6b46c1", "reply": "#6b46c1", "alternate": "#718096"}


@dataclass
class Box:
    x: float
    y: float
    width: float
    height: float = NODE_HEIGHT


def _truncate(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def node_width(node: Node) -> float:
    chars = max(len(_truncate(node.label)), int(len(_truncate(node.detail)) * 0.85))
    return max(96.0, min(260.0, chars * CHAR_WIDTH + 28))


def _back_edges(diagram: Diagram, edges: list[Edge]) -> set[int]:
    """Edges that close a cycle (found by DFS in declaration order); ignored for layering."""
    out: dict[str, list[tuple[int, str]]] = {n: [] for n in diagram.nodes}
    for index, edge in enumerate(edges):
        out[edge.source].append((index, edge.dest))
    state: dict[str, int] = {}
    back: set[int] = set()
    for root in diagram.nodes:
        if root in state:
            continue
        stack = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            advanced = False
            for index, child in children:
                if state.get(child) == 1:
                    back.add(index)
                elif child not in state:
                    state[child] = 1
                    stack.append((child, iter(out[child])))
                    advanced = True
                    break
            if not advanced:
                state[node] = 2
                stack.pop()
    return back


def assign_layers(diagram: Diagram) -> dict[str, int]:
    """Longest-path layers over flow edges; pure sources sit just left of their first successor."""
    edges = [e for e in diagram.edges if e.kind in LAYERING_EDGES]
    back = _back_edges(diagram, edges)
    dag = [e for i, e in enumerate(edges) if i not in back]
    layer = {n: 0 for n in diagram.nodes}
    for _ in range(len(diagram.nodes)):
        changed = False
        for edge in dag:
            if layer[edge.dest] < layer[edge.source] + 1:
                layer[edge.dest] = layer[edge.source] + 1
                changed = True
        if not changed:
            break
    has_in = {e.dest for e in dag}
    for node_id in diagram.nodes:
        successors = [layer[e.dest] for e in dag if e.source == node_id]
        if node_id not in has_in and successors:
            layer[node_id] = max(0, min(successors) - 1)
    return layer


def order_rows(diagram: Diagram, layer: dict[str, int]) -> list[list[str]]:
    """Nodes per column, ordered by barycenters of their neighbours (a few sweeps)."""
    columns: list[list[str]] = [[] for _ in range(max(layer.values(), default=0) + 1)]
    for node_id in diagram.nodes:
        columns[layer[node_id]].append(node_id)
    neighbours: dict[str, list[str]] = {n: [] for n in diagram.nodes}
    for edge in diagram.edges:
        neighbours[edge.source].append(edge.dest)
        neighbours[edge.dest].append(edge.source)
    for sweep in range(6):
        position = {n: i for column in columns for i, n in enumerate(column)}
        indices = range(1, len(columns)) if sweep % 2 == 0 else range(len(columns) - 2, -1, -1)
        for c in indices:
            ref = c - 1 if sweep % 2 == 0 else c + 1

            def barycenter(node_id: str, ref: int = ref) -> float:
                near = [position[m] for m in neighbours[node_id] if layer[m] == ref]
                return sum(near) / len(near) if near else position[node_id]

            columns[c] = sorted(columns[c], key=lambda n: (barycenter(n), position[n]))
    return columns


def layout(diagram: Diagram, top: float) -> tuple[dict[str, Box], float, float]:
    layer = assign_layers(diagram)
    columns = order_rows(diagram, layer)
    widths = {n: node_width(diagram.nodes[n]) for n in diagram.nodes}
    heights = [len(col) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP for col in columns]
    tallest = max(heights, default=0)
    boxes: dict[str, Box] = {}
    x = MARGIN
    for column, height in zip(columns, heights):
        column_width = max((widths[n] for n in column), default=0)
        y = top + (tallest - height) / 2
        for node_id in column:
            boxes[node_id] = Box(x + (column_width - widths[node_id]) / 2, y, widths[node_id])
            y += NODE_HEIGHT + ROW_GAP
        x += column_width + COLUMN_GAP
    return boxes, x - COLUMN_GAP + MARGIN, top + tallest + MARGIN


def _edge_path(a: Box, b: Box) -> tuple[str, float, float]:
    """A curve from a's right to b's left, or below both when b is not to the right of a."""
    if b.x > a.x + a.width:
        sx, sy = a.x + a.width, a.y + a.height / 2
        tx, ty = b.x, b.y + b.height / 2
        dx = (tx - sx) / 2
        c1, c2 = (sx + dx, sy), (tx - dx, ty)
    else:
        sx, sy = a.x + a.width / 2, a.y + a.height
        tx, ty = b.x + b.width / 2, b.y + b.height
        dip = max(sy, ty) + 36
        c1, c2 = (sx, dip), (tx, dip)
    mx = 0.125 * sx + 0.375 * c1[0] + 0.375 * c2[0] + 0.125 * tx
    my = 0.125 * sy + 0.375 * c1[1] + 0.375 * c2[1] + 0.125 * ty
    path = f"M{sx:.1f},{sy:.1f} C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {tx:.1f},{ty:.1f}"
    return path, mx, my


def _legend(diagram: Diagram, colors: dict[str, str]) -> tuple[list[str], float]:
    parts = ['<g class="bf-legend">']
    x = MARGIN
    for target, broker in diagram.targets.items():
        text = f"{target} ({broker})"
        parts.append(f'<rect x="{x}" y="{MARGIN}" width="10" height="10" fill="{colors[target]}"/>')
        parts.append(f'<text x="{x + 14}" y="{MARGIN + 9}">{escape(text)}</text>')
        x += 14 + len(text) * 5.8 + 18
    y = MARGIN + 22
    x = MARGIN
    for css, label in (("flow", "message flow"), ("dlq", "dead-letter"), ("forward", "forward"), ("reply", "reply"), ("alternate", "alternate exchange")):
        parts.append(f'<g class="bf-edge e-{css}"><path d="M{x},{y} L{x + 26},{y}" marker-end="url(#bf-arrow-{css})"/></g>')
        parts.append(f'<text x="{x + 32}" y="{y + 3}">{label}</text>')
        x += 32 + len(label) * 5.8 + 18
    parts.append("</g>")
    return parts, y + 18


def render_svg(diagram: Diagram) -> str:
    """A complete <svg> element (no XML prolog) that can be inlined in HTML or saved as a file."""
    colors = {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(diagram.targets)}
    legend, top = _legend(diagram, colors)
    boxes, width, height = layout(diagram, top + 10)
    width = max(width, 480)
    height += 40  # room for curves that dip below the last row
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bf-topology" role="img" '
        f'aria-label="Topology diagram" width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">',
        f"<style>{STYLE}</style>",
        "<defs>",
    ]
    for css, color in MARKER_COLORS.items():
        out.append(
            f'<marker id="bf-arrow-{css}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
        )
    out.append("</defs>")
    out.append(f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>')
    out.extend(legend)
    labelled: set[tuple[str, str]] = set()
    for edge in diagram.edges:
        path, mx, my = _edge_path(boxes[edge.source], boxes[edge.dest])
        show_label = bool(edge.label) and (edge.dest, edge.label) not in labelled
        labelled.add((edge.dest, edge.label))
        css = EDGE_CLASS.get(edge.kind, "flow")
        out.append(f'<g class="bf-edge e-{css}" data-kind="{edge.kind}">')
        out.append(f"<title>{escape(diagram.nodes[edge.source].label)} → {escape(diagram.nodes[edge.dest].label)}: {escape(edge.kind)}</title>")
        out.append(f'<path d="{path}" marker-end="url(#bf-arrow-{css})"/>')
        if show_label:
            label = _truncate(edge.label, 40)
            lw = len(label) * 5.6 + 6
            out.append(f'<rect x="{mx - lw / 2:.1f}" y="{my - 8:.1f}" width="{lw:.1f}" height="13" rx="2"/>')
            out.append(f'<text x="{mx:.1f}" y="{my + 2:.1f}" text-anchor="middle">{escape(label)}</text>')
        out.append("</g>")
    for node_id, node in diagram.nodes.items():
        box = boxes[node_id]
        rx = 18 if node.kind in ("service", "reply") else (10 if node.kind in ("exchange", "topic") else 3)
        out.append(f'<g class="bf-node k-{node.kind}" data-id="{escape(node_id)}">')
        out.append(f"<title>{escape(node.label)}{(' — ' + escape(node.detail)) if node.detail else ''}</title>")
        out.append(f'<rect class="box" x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height}" rx="{rx}"/>')
        if node.target is not None:
            out.append(f'<rect x="{box.x + 1:.1f}" y="{box.y + 6:.1f}" width="4" height="{box.height - 12}" fill="{colors.get(node.target, "#718096")}"/>')
        cx = box.x + box.width / 2
        if node.detail:
            out.append(f'<text x="{cx:.1f}" y="{box.y + 19:.1f}" text-anchor="middle">{escape(_truncate(node.label))}</text>')
            out.append(f'<text class="detail" x="{cx:.1f}" y="{box.y + 34:.1f}" text-anchor="middle">{escape(_truncate(node.detail))}</text>')
        else:
            out.append(f'<text x="{cx:.1f}" y="{box.y + 26:.1f}" text-anchor="middle">{escape(_truncate(node.label))}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
