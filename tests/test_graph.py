"""`brokerform graph`: the topology as Mermaid, DOT and SVG, with DLQs and forwarding distinct."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from brokerform.cli import main
from brokerform.manifest.loader import load_manifest
from brokerform.report.diagram import build_diagram
from brokerform.report.dot import render_dot
from brokerform.report.mermaid import render_mermaid
from brokerform.report.svg import assign_layers, render_svg

ROOT = Path(__file__).resolve().parents[1]
SVG_NS = "{http://www.w3.org/2000/svg}"

FORWARDING = """
targets:
  sb:
    type: azure-servicebus
    subscription_id: s
    resource_group: g
    namespace: ns-orders
    queues:
      intake: {forward_to: work}
      work: {forward_dead_lettered_messages_to: poison}
      poison: {}
    topics:
      events:
        subscriptions:
          audit: {forward_to: work, rules: {only-eu: {sql: {expression: "region = 'eu'"}}}}
"""


def orders_diagram():
    return build_diagram(load_manifest(ROOT / "examples" / "rabbitmq-orders").manifest)


def forwarding_diagram(tmp_path):
    path = tmp_path / "manifest.yaml"
    path.write_text(FORWARDING)
    return build_diagram(load_manifest(path).manifest)


def test_diagram_flows_from_producers_through_exchange_and_subscriptions_to_consumers():
    diagram = orders_diagram()
    edges = {(e.source, e.dest, e.kind, e.label) for e in diagram.edges}
    assert ("svc:checkout-svc", "orders-rmq:orders.events", "publish", "") in edges
    assert ("orders-rmq:orders.events", "orders-rmq:orders.events/fulfilment", "route", "order.placed") in edges
    assert ("orders-rmq:orders.events/fulfilment", "svc:fulfilment-svc", "consume", "") in edges
    assert ("orders-rmq:orders.events/billing", "orders-rmq:orders.events.dlq", "dead-letter",
            "dead-letter after 3 retries (10s, 20s, 40s)") in edges
    assert ("orders-rmq:orders.events", "orders-rmq:orders.audit", "route", "#") in edges  # native binding
    assert diagram.nodes["orders-rmq:orders.events.dlq"].kind == "dlq"
    assert diagram.nodes["orders-rmq:orders.quote.reply"].kind == "reply"


def test_layers_put_producers_left_of_exchanges_left_of_queues_left_of_consumers():
    layer = assign_layers(orders_diagram())
    assert layer["svc:checkout-svc"] == 0
    assert layer["orders-rmq:orders.events"] == 1
    assert layer["orders-rmq:orders.events/billing"] == 2
    assert layer["svc:billing-svc"] == 3
    assert layer["orders-rmq:orders.events.dlq"] == 3


def test_mermaid_draws_dead_letters_dashed_and_forwarding_thick(tmp_path):
    text = render_mermaid(orders_diagram())
    assert text.startswith("flowchart LR\n")
    assert 'n2 -.->|"dead-letter after 3 retries (10s, 20s, 40s)"| n8' in text
    assert 'n8[["orders.events.dlq<br/><small>dead-letter queue</small>"]]' in text
    assert 'n0 -->|"#35;"| n12' in text  # '#' escaped for Mermaid
    forwarding = render_mermaid(forwarding_diagram(tmp_path))
    assert re.search(r"n\d+ ==>\|\"forward\"\| n\d+", forwarding)
    assert re.search(r"n\d+ -.->\|\"dead letters\"\| n\d+", forwarding)


def test_dot_draws_dead_letters_dashed_and_forwarding_bold(tmp_path):
    text = render_dot(forwarding_diagram(tmp_path))
    assert text.startswith("digraph topology {\n  rankdir=LR;")
    assert 'subgraph cluster_sb {' in text
    assert re.search(r'-> n\d+ \[style=bold, color="#6b46c1", label="forward"\];', text)
    assert re.search(r'-> n\d+ \[style=dashed, color="#c53030", label="dead letters"\];', text)
    assert 'label="audit\\nsubscription", shape=cds' in text


def test_svg_is_well_formed_self_contained_and_marks_edge_kinds(tmp_path):
    text = render_svg(forwarding_diagram(tmp_path))
    root = ET.fromstring(text)
    assert root.tag == f"{SVG_NS}svg"
    kinds = [g.get("data-kind") for g in root.iter(f"{SVG_NS}g") if g.get("data-kind")]
    assert sorted(kinds) == ["dead-letter", "forward", "forward", "route"]
    nodes = [g for g in root.iter(f"{SVG_NS}g") if (g.get("class") or "").startswith("bf-node")]
    assert len(nodes) == 5
    assert "k-dlq" in next(g.get("class") for g in nodes if g.get("data-id") == "sb:poison")
    without_namespace = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http" not in without_namespace and "url(#" in without_namespace  # only local references


def test_graph_command_prints_each_format():
    runner = CliRunner()
    example = str(ROOT / "examples" / "rabbitmq-orders")
    mermaid = runner.invoke(main, ["graph", example])
    dot = runner.invoke(main, ["graph", example, "--format", "dot"])
    svg = runner.invoke(main, ["graph", example, "--format", "svg"])
    assert (mermaid.exit_code, dot.exit_code, svg.exit_code) == (0, 0, 0)
    assert mermaid.output == render_mermaid(orders_diagram())
    assert dot.output.startswith("digraph topology {")
    assert svg.output.startswith("<svg ")


def test_graph_command_reports_a_located_error_without_traceback(tmp_path):
    bad = tmp_path / "manifest.yaml"
    bad.write_text("targets:\n  r: {type: rabbitmq}\n")
    result = CliRunner().invoke(main, ["graph", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2:3: targets.r.url: required field is missing" in result.output
    assert "Traceback" not in result.output
