"""AsyncAPI, Mermaid, DOT and Pulumi exports with hostile names: names that sanitise alike keep
distinct identifiers (nothing merged, every reference to its own entry), Mermaid labels carry
no directives, schema `$ref`s are URI references, graph formats follow the -o extension, and
odd output paths and file names give clear messages."""

from __future__ import annotations

import ast
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from brokerform.cli import main
from brokerform.export.asyncapi import build_asyncapi
from brokerform.export.identifiers import Identifiers
from brokerform.manifest.loader import load_manifest
from brokerform.report.diagram import build_diagram
from brokerform.report.dot import render_dot
from brokerform.report.mermaid import render_mermaid
from support.hostile_manifests import COLLIDING_CHANNELS

ROOT = Path(__file__).resolve().parents[1]
ORDERS = ROOT / "examples" / "rabbitmq-orders"
SCHEMA = ROOT / "tests" / "data" / "asyncapi-3.0.0.schema.json"

ANGLE_CHANNELS = """\
brokerform: 1
targets:
  rmq: {type: rabbitmq, url: "http://127.0.0.1:1", scope: {vhost: v}}
channels:
  "a<b": {target: rmq, pattern: point-to-point, producers: [svc-a], consumers: [svc-c]}
  "a>b": {target: rmq, pattern: point-to-point, producers: [svc-b], consumers: [svc-d]}
"""

ANGLE_TARGETS = """\
brokerform: 1
targets:
  "r<1": {type: rabbitmq, url: "http://127.0.0.1:1", scope: {vhost: v1}}
  "r>1": {type: rabbitmq, url: "http://127.0.0.2:1", scope: {vhost: v2}}
channels:
  c1: {target: "r<1", pattern: point-to-point, producers: [a], consumers: [b]}
  c2: {target: "r>1", pattern: point-to-point, producers: [a], consumers: [b]}
"""

DIRECTIVE = """\
brokerform: 1
targets:
  rmq: {type: rabbitmq, url: "http://127.0.0.1:1", scope: {vhost: v}}
channels:
  "%%{init: {'theme': 'dark'}}%%": {target: rmq, pattern: point-to-point, producers: ["`md`"], consumers: [b]}
"""


def load(tmp_path: Path, text: str):
    path = tmp_path / "manifest.yaml"
    path.write_text(text, encoding="utf-8")
    return load_manifest(path)


def resolve(document: dict, pointer: str):
    node = document
    for part in pointer[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(document)]


# --- the shared helper --------------------------------------------------------------------------------


def test_identifiers_number_look_alikes_and_keep_one_identifier_per_owner():
    ids = Identifiers(lambda name: re.sub(r"\W", "_", name))
    assert [ids(n) for n in ("a:b", "a/b", "a b", "a:b")] == ["a_b", "a_b_2", "a_b_3", "a_b"]
    assert ids("a_b_2") == "a_b_2_2"  # a literal name never takes an identifier already handed out


def test_identifiers_let_names_that_are_valid_identifiers_keep_them():
    ids = Identifiers(lambda name: re.sub(r"\W", "_", name))
    ids.prefer_exact([(n, n) for n in ("x:y", "x_y")])
    assert (ids("x:y"), ids("x_y")) == ("x_y_2", "x_y")


# --- AsyncAPI -----------------------------------------------------------------------------------------


def test_asyncapi_keeps_every_channel_whose_name_sanitises_to_the_same_key(tmp_path):
    document = build_asyncapi(load(tmp_path, COLLIDING_CHANNELS))
    assert schema_errors(document) == []
    assert {key: channel["title"] for key, channel in document["channels"].items()} == {
        "orders_created_2": "orders:created",
        "orders_created_3": "orders/created",
        "orders_created_4": "orders created",
        "orders_created": "orders_created",
    }
    titles = {op_key: resolve(document, op["channel"]["$ref"])["title"] for op_key, op in document["operations"].items()}
    assert titles == {
        "a.send.orders_created_2": "orders:created", "b.receive.orders_created_2": "orders:created",
        "a.send.orders_created_3": "orders/created", "b.receive.orders_created_3": "orders/created",
        "a.send.orders_created_4": "orders created", "b.receive.orders_created_4": "orders created",
        "a.send.orders_created": "orders_created", "b.receive.orders_created": "orders_created",
    }
    for op in document["operations"].values():
        message = resolve(document, op["messages"][0]["$ref"])
        assert resolve(document, message["$ref"])["title"] == f"{resolve(document, op['channel']['$ref'])['title']} message"


def test_asyncapi_operations_point_at_their_own_channel(tmp_path):
    document = build_asyncapi(load(tmp_path, ANGLE_CHANNELS))
    assert schema_errors(document) == []
    served = {op["x-service"]: resolve(document, op["channel"]["$ref"])["title"]
              for op in document["operations"].values()}
    assert served == {"svc-a": "a<b", "svc-c": "a<b", "svc-b": "a>b", "svc-d": "a>b"}


def test_asyncapi_keeps_one_server_per_target_whose_names_sanitise_alike(tmp_path):
    document = build_asyncapi(load(tmp_path, ANGLE_TARGETS))
    assert schema_errors(document) == []
    assert {key: server["title"] for key, server in document["servers"].items()} == {
        "r_1": "r<1 (RabbitMQ)", "r_1_2": "r>1 (RabbitMQ)"}
    assert {channel["title"]: resolve(document, channel["servers"][0]["$ref"])["pathname"]
            for channel in document["channels"].values()} == {"c1": "/v1", "c2": "/v2"}


def test_referenced_schemas_are_percent_encoded_uri_references(tmp_path):
    project = tmp_path / "refs"
    (project / "schemas").mkdir(parents=True)
    (project / "schemas" / "my schema#1%.json").write_text('{"type": "object"}')
    (project / "manifest.yaml").write_text(
        "brokerform: 1\ntargets:\n  rmq: {type: rabbitmq, url: 'http://127.0.0.1:1', scope: {vhost: v}}\n"
        "channels:\n  c1:\n    target: rmq\n    pattern: point-to-point\n    producers: [a]\n    consumers: [b]\n"
        "    contract: {schema: 'schemas/my schema#1%.json', format: json-schema}\n")
    out = tmp_path / "out" / "api.json"
    result = CliRunner().invoke(main, ["export", "asyncapi", str(project), "--reference-schemas", "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    reference = document["components"]["messages"]["c1.message"]["payload"]["schema"]["$ref"]
    assert reference == "../refs/schemas/my%20schema%231%25.json"
    assert (out.parent / unquote(reference)).resolve() == (project / "schemas" / "my schema#1%.json").resolve()


@pytest.mark.parametrize("suffix", [".json", ".YAML"])
def test_asyncapi_of_a_manifest_file_name_that_is_not_utf8_is_valid_and_shows_it_escaped(tmp_path, suffix):
    try:
        manifest = tmp_path / os.fsdecode(b"m\xff.yaml")
        manifest.write_text(ANGLE_CHANNELS)
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses file names that are not UTF-8")
    out = tmp_path / f"api{suffix}"
    result = CliRunner().invoke(main, ["export", "asyncapi", str(manifest), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    document = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    assert document["info"]["description"] == f"Generated by brokerform from `{tmp_path}/m\\xff.yaml`."
    assert schema_errors(document) == []


# --- Mermaid and DOT ------------------------------------------------------------------------------------


def test_mermaid_and_dot_give_targets_whose_names_sanitise_alike_their_own_subgraph(tmp_path):
    diagram = build_diagram(load(tmp_path, ANGLE_TARGETS).manifest)
    mermaid = render_mermaid(diagram)
    dot = render_dot(diagram)
    assert re.findall(r"^    subgraph (\S+?)\[", mermaid, re.M) == ["t_r_1", "t_r_1_2"]
    assert re.findall(r"^  subgraph (\S+) \{", dot, re.M) == ["cluster_r_1", "cluster_r_1_2"]
    assert '    subgraph t_r_1["r#lt;1 (rabbitmq)"]\n        n0["c1<br/><small>channel · point-to-point</small>"]\n' in mermaid
    assert '    subgraph t_r_1_2["r#gt;1 (rabbitmq)"]\n        n3["c2<br/><small>channel · point-to-point</small>"]\n' in mermaid


def test_mermaid_labels_carry_no_init_directive_and_no_markdown_string(tmp_path):
    mermaid = render_mermaid(build_diagram(load(tmp_path, DIRECTIVE).manifest))
    assert "%" not in mermaid
    assert "`" not in mermaid
    assert ("""    n0["#37;#37;{init: {'theme': 'dark'}}#37;#37;<br/><small>channel · point-to-point</small>"]"""
            in mermaid)
    assert '    n1(["#96;md#96;"])' in mermaid


def test_mermaid_labels_turn_line_breaks_into_spaces():
    from brokerform.report.mermaid import escape

    assert escape('a\r\nb\rc\nd "e" #f') == "a b c d #quot;e#quot; #35;f"


# --- graph output formats ---------------------------------------------------------------------------------


def graph(*args: str):
    return CliRunner().invoke(main, ["graph", str(ORDERS), *args])


@pytest.mark.parametrize(("name", "starts"), [
    ("g.svg", "<svg "), ("g.SVG", "<svg "), ("g.dot", "digraph topology {"), ("g.gv", "digraph topology {"),
    ("g.mmd", "flowchart LR"), ("g", "flowchart LR"),
])
def test_graph_picks_the_format_from_the_output_extension(tmp_path, name, starts):
    result = graph("-o", str(tmp_path / name))
    assert result.exit_code == 0, result.output
    text = (tmp_path / name).read_text(encoding="utf-8")
    assert text.startswith(starts)
    if starts == "<svg ":
        ET.fromstring(text)


def test_graph_refuses_an_image_extension_it_cannot_write(tmp_path):
    result = graph("-o", str(tmp_path / "g.png"))
    assert result.exit_code == 1
    assert result.stderr == (f"error: -o {tmp_path / 'g.png'}: cannot tell the format from '.png'; use one of "
                             ".mmd, .mermaid, .dot, .gv, .svg; for an image, pipe `--format dot` through Graphviz "
                             "(`dot -Tpng`)\n")
    assert not (tmp_path / "g.png").exists()


def test_graph_refuses_an_extension_that_contradicts_format(tmp_path):
    result = graph("--format", "dot", "-o", str(tmp_path / "g.svg"))
    assert result.exit_code == 1
    assert result.stderr == (f"error: -o {tmp_path / 'g.svg'}: '.svg' is for svg output but --format is dot; "
                             "name the file .dot or .gv, or drop --format\n")


def test_graph_format_without_output_still_prints_to_stdout():
    result = graph("--format", "dot")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("digraph topology {")


# --- Pulumi output directory ------------------------------------------------------------------------------


def test_pulumi_export_into_an_existing_file_names_the_path(tmp_path):
    existing = tmp_path / "existing"
    existing.write_text("keep me")
    result = CliRunner().invoke(main, ["export", "pulumi", str(ROOT / "examples" / "aws-notifications"),
                                       "--target", "notifications", "-o", str(existing)])
    assert result.exit_code == 1
    assert result.stderr == (f"error: -o {existing}: exists and is not a directory; give a new or existing "
                             "directory for the Pulumi project\n")
    assert existing.read_text() == "keep me"


def test_pulumi_export_below_a_file_names_the_file_in_the_way(tmp_path):
    existing = tmp_path / "existing"
    existing.write_text("keep me")
    result = CliRunner().invoke(main, ["export", "pulumi", str(ROOT / "examples" / "aws-notifications"),
                                       "--target", "notifications", "-o", str(existing / "project")])
    assert result.exit_code == 1
    assert result.stderr == (f"error: -o {existing / 'project'}: {existing} exists and is not a directory, so the "
                             "project directory cannot be created there\n")


def test_a_hostile_target_name_cannot_add_code_to_the_pulumi_program(tmp_path):
    name = 'sb"""\nimport os  # \\'
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({"brokerform": 1, "targets": {name: {
        "type": "azure-servicebus", "subscription_id": "s", "resource_group": "g", "namespace": "ns-orders",
        "queues": {"work": {}}}}}))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["export", "pulumi", str(manifest), "--target", name, "-o", str(out)])
    assert result.exit_code == 0, result.output
    program = (out / "__main__.py").read_text()
    module = ast.parse(program)
    assert [type(node).__name__ for node in module.body[:3]] == ["Expr", "Import", "Import"]
    assert [alias.name for node in module.body if isinstance(node, ast.Import) for alias in node.names] == [
        "pulumi", "pulumi_azure_native.servicebus"]
    assert ast.get_docstring(module).startswith(f"Azure Service Bus topology of brokerform target {name} (1 queue(s)).")
    assert program.count("\nimport ") == 2
    assert yaml.safe_load((out / "Pulumi.yaml").read_text())["name"] == "sb-import-os"
    assert (out / "Pulumi.yaml").read_text().startswith(
        f'# Generated by `brokerform export pulumi` from {manifest} (target sb\\"\\"\\"\\x0aimport os  # \\\\).\n')
