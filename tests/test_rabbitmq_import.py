"""`brokerform import rabbitmq`: every real-world definitions file in the corpus round-trips.

Each corpus file is loaded into fresh vhosts (one per vhost in the file) with
`POST /api/definitions/{vhost}`, imported to a manifest, and planned: no changes.
Objects this broker cannot hold are left out of the load, and documented in
docs/providers/rabbitmq.md: users, permissions and global parameters (cluster-wide: loading
them would change the shared broker's users), x-federation exchanges (a plugin type this
broker lacks), and shovel/federation parameters whose URI is a deployment placeholder
(`CEGA_CONNECTION`) that RabbitMQ refuses. Shovels, federation upstreams and federation
policies load (the plugins are enabled); their URI passwords come back as references, which
the test sets to the file's passwords before planning.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import CORPUS
from rabbitmq_support import admin, cli, rabbit_env, seg, unique_vhost  # noqa: F401 - fixtures

RABBIT_CORPUS = CORPUS / "rabbitmq"
CORPUS_FILES = sorted(RABBIT_CORPUS.glob("*.json"))
MALFORMED = sorted((RABBIT_CORPUS / "malformed").glob("*"))
URI_KEYS = {"uri", "src-uri", "dest-uri"}


def uris_are_valid(parameter: dict) -> bool:
    """RabbitMQ refuses a shovel or upstream whose URI is a placeholder such as CEGA_CONNECTION."""
    value = parameter.get("value") or {}
    if not isinstance(value, dict):  # a federation-upstream-set is a list of upstream names
        return True
    uris = [u for key in URI_KEYS & set(value) for u in (value[key] if isinstance(value[key], list) else [value[key]])]
    return all(isinstance(u, str) and "://" in u for u in uris)


def loadable(data: dict, vhost: str) -> dict:
    """One vhost's objects that a stock 3.10 broker (management plugin only) accepts."""
    def mine(item: dict) -> bool:
        return item.get("vhost", vhost) == vhost

    def clean(item: dict) -> dict:
        return {k: v for k, v in item.items() if k != "vhost" and not k.startswith("_")}

    exchanges = [clean(e) for e in data.get("exchanges", []) if mine(e) and not e["type"].startswith("x-")]
    queues = [clean(q) for q in data.get("queues", []) if mine(q)]
    existing = {("exchange", e["name"]) for e in exchanges} | {("queue", q["name"]) for q in queues}

    def exists(kind: str, name: str) -> bool:  # neic-sda binds to a queue `files` it never declares
        return (kind, name) in existing or (kind == "exchange" and name.startswith("amq."))

    return {
        "exchanges": exchanges,
        "queues": queues,
        "bindings": [clean(b) for b in data.get("bindings", []) if mine(b) and exists("exchange", b["source"])
                     and exists(b["destination_type"], b["destination"])],
        "policies": [clean(p) for p in data.get("policies", []) if mine(p)],
        "parameters": [clean(p) for p in data.get("parameters", []) if mine(p) and uris_are_valid(p)],
    }


def set_imported_password_variables(imported: dict, objects: dict, monkeypatch) -> None:
    """`import` writes a URI's password as ${env:NAME}; set NAME to the password in the file."""
    originals = {p["name"]: p["value"] for p in objects["parameters"]}
    for name, parameter in imported.get("parameters", {}).items():
        for written, original in zip(_strings(parameter["value"]), _strings(originals[name])):
            match = re.search(r"\$\{env:([A-Z0-9_]+)\}", written)
            if match:
                before, _, after = written.partition(match.group(0))
                assert original.startswith(before) and original.endswith(after), (written, original)
                monkeypatch.setenv(match.group(1), original[len(before):len(original) - len(after)])


def _strings(value):
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _strings(value[key])
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def source_vhosts(data: dict) -> list[str]:
    names = {item["vhost"] for section in ("queues", "exchanges", "policies") for item in data.get(section, [])}
    return sorted(names)


@pytest.mark.rabbitmq
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.stem for p in CORPUS_FILES])
def test_corpus_definitions_round_trip_through_import_with_no_changes(path: Path, admin, tmp_path, monkeypatch):
    data = json.loads(path.read_text())
    for source in source_vhosts(data):
        objects = loadable(data, source)
        vhost = unique_vhost("corpus")
        try:
            admin.create_vhost(vhost)
            admin.post(f"/api/definitions/{seg(vhost)}", objects)
            out = tmp_path / f"{seg(source)}.yaml"
            cli("import", "rabbitmq", "--url", admin.env["RABBITMQ_URL"], "--vhost", vhost,
                "--username", admin.env["RABBITMQ_USERNAME"], "--password-env", "RABBITMQ_PASSWORD",
                "-o", out, check=0)
            target = yaml.safe_load(out.read_text())["targets"]["rabbitmq"]
            assert sorted(target.get("queues", {})) == sorted(q["name"] for q in objects["queues"])
            assert len(target.get("bindings", [])) == len(objects["bindings"])
            assert sorted(target.get("policies", {})) == sorted(p["name"] for p in objects["policies"])
            assert sorted(target.get("parameters", {})) == sorted(p["name"] for p in objects["parameters"])
            set_imported_password_variables(target, objects, monkeypatch)
            code, output = cli("plan", out, "--detailed-exitcode")
            assert code == 0, f"{path.name} vhost {source}: plan after import shows changes:\n{output}"
        finally:
            admin.delete_vhost(vhost)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.stem for p in CORPUS_FILES])
def test_offline_import_of_each_vhost_in_a_corpus_file_is_a_valid_manifest(path: Path, tmp_path):
    data = json.loads(path.read_text())
    for source in source_vhosts(data):
        out = tmp_path / f"{seg(source)}.yaml"
        cli("import", "rabbitmq", "--from-definitions", path, "--vhost", source, "-o", out, check=0)
        cli("validate", out, check=0)
        target = yaml.safe_load(out.read_text())["targets"]["rabbitmq"]
        assert sorted(target.get("queues", {})) == sorted(q["name"] for q in data["queues"] if q["vhost"] == source)


def test_offline_import_keeps_typed_queue_fields_and_raw_arguments(tmp_path):
    out = tmp_path / "ha.yaml"
    cli("import", "rabbitmq", "--from-definitions", RABBIT_CORPUS / "dokus-vhost-ha-dlx.json", "--vhost", "/dokus",
        "-o", out, check=0)
    target = yaml.safe_load(out.read_text())["targets"]["rabbitmq"]
    assert target["queues"]["audit.events.queue"] == {
        "type": "classic", "message_ttl": "1d", "dead_letter_exchange": "dokus.dlx", "dead_letter_routing_key": "dead"}
    assert target["policies"]["audit-ha-policy"]["definition"] == {"ha-mode": "all", "ha-sync-mode": "automatic"}
    assert target["permissions"] == {"dokus": {"configure": ".*", "write": ".*", "read": ".*"}}


def test_offline_import_of_an_unknown_vhost_names_the_ones_in_the_file(tmp_path):
    path = RABBIT_CORPUS / "cluster-operator-federation-over-tls.json"
    code, out = cli("import", "rabbitmq", "--from-definitions", path, "--vhost", "nope", "-o", tmp_path / "x.yaml")
    assert code == 1
    assert f"error: {path}: no vhost 'nope' in this file (it has: /, downstream, upstream)" in out


def test_templated_definitions_file_is_refused_with_its_line_and_column(tmp_path):
    path = RABBIT_CORPUS / "malformed" / "kolla-ansible-definitions.json.j2"
    code, out = cli("import", "rabbitmq", "--from-definitions", path, "--vhost", "/", "-o", tmp_path / "x.yaml")
    assert code == 1
    assert f"{path}:1:1: not valid JSON: Expecting value (this looks like a template: render it first)" in out
    assert not (tmp_path / "x.yaml").exists()


def test_definitions_nested_too_deeply_are_refused_naming_the_file(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"queues": ' + "[" * 100_000 + "]" * 100_000 + "}")
    code, out = cli("import", "rabbitmq", "--from-definitions", path, "--vhost", "/", "-o", tmp_path / "x.yaml")
    assert code == 1
    assert f"{path}: JSON nested too deeply to be a definitions export" in out
    assert "Traceback" not in out and "internal error" not in out


def test_policy_without_a_name_is_refused_naming_the_file_and_field(tmp_path):
    path = RABBIT_CORPUS / "malformed" / "rabbitmq-server-failing-case17-policy-without-name.json"
    code, out = cli("import", "rabbitmq", "--from-definitions", path, "--vhost", "/", "-o", tmp_path / "x.yaml")
    assert code == 1
    assert f"{path}: policies[0].name: required field is missing" in out


@pytest.mark.parametrize("path", MALFORMED, ids=[p.name for p in MALFORMED])
def test_malformed_definitions_are_refused_by_validate_too(path: Path):
    code, out = cli("validate", path)
    assert code == 1
    assert str(path) in out and "Traceback" not in out


def test_imported_names_with_template_markers_stay_literal(tmp_path):
    definitions = tmp_path / "defs.json"
    definitions.write_text(json.dumps({"queues": [{"name": "jobs.{{tenant}}", "durable": True, "arguments": {}}],
                                       "exchanges": [], "bindings": []}))
    out = tmp_path / "m.yaml"
    cli("import", "rabbitmq", "--from-definitions", definitions, "--vhost", "t", "-o", out, check=0)
    cli("validate", out, check=0)
    from brokerform.manifest.loader import load_manifest

    assert list(load_manifest(out).manifest.targets["rabbitmq"].queues) == ["jobs.{{tenant}}"]


def test_offline_import_drops_a_binding_to_an_undeclared_queue_with_a_warning(tmp_path):
    path = RABBIT_CORPUS / "neic-sda-definitions.json"
    code, out = cli("import", "rabbitmq", "--from-definitions", path, "--vhost", "sda", "-o", tmp_path / "sda.yaml")
    assert code == 0
    assert f"warning: {path}: skipped binding 'sda -> queue:files [files]': queue 'files' not declared in the file" in out


def test_shovel_and_federation_uri_passwords_are_imported_as_references_never_as_text(tmp_path):
    definitions = tmp_path / "definitions.json"
    definitions.write_text(json.dumps({"parameters": [
        {"component": "shovel", "vhost": "/", "name": "to-archive",
         "value": {"src-uri": "amqp://shoveller:Zebra-Shovel-1@dc1/%2F", "src-queue": "outbox",
                   "dest-uri": "amqps://archiver:Zebra-Shovel-2@dc2:5671/archive", "dest-queue": "in"}},
        {"component": "federation-upstream", "vhost": "/", "name": "dc2",
         "value": {"uri": ["amqp://fed:Zebra-Fed@dc2a", "amqp://dc2b"], "expires": 3600000}},
    ]}))
    out = tmp_path / "imported.yaml"
    code, output = cli("import", "rabbitmq", "--from-definitions", definitions, "--vhost", "/", "-o", out, check=0)
    assert "Zebra" not in out.read_text()
    parameters = yaml.safe_load(out.read_text())["targets"]["rabbitmq"]["parameters"]
    assert parameters["to-archive"]["value"] == {
        "dest-queue": "in", "dest-uri": "amqps://archiver:${env:RABBITMQ_SHOVEL_TO_ARCHIVE_DEST_URI_PASSWORD}@dc2:5671/archive",
        "src-queue": "outbox", "src-uri": "amqp://shoveller:${env:RABBITMQ_SHOVEL_TO_ARCHIVE_SRC_URI_PASSWORD}@dc1/%2F"}
    assert parameters["dc2"]["value"] == {
        "expires": 3600000,
        "uri": ["amqp://fed:${env:RABBITMQ_FEDERATION_UPSTREAM_DC2_URI_1_PASSWORD}@dc2a", "amqp://dc2b"]}
    assert ("set RABBITMQ_FEDERATION_UPSTREAM_DC2_URI_1_PASSWORD, RABBITMQ_SHOVEL_TO_ARCHIVE_DEST_URI_PASSWORD, "
            "RABBITMQ_SHOVEL_TO_ARCHIVE_SRC_URI_PASSWORD before planning") in output


@pytest.mark.rabbitmq
def test_a_federation_upstream_set_whose_value_is_a_list_imports_and_replans_with_no_changes(admin, tmp_path):
    vhost = unique_vhost("upstream-set")
    upstreams = [{"upstream": "dc2"}, {"upstream": "dc3"}]
    try:
        admin.create_vhost(vhost)
        admin.put(f"/api/parameters/federation-upstream-set/{seg(vhost)}/both-dcs", {"value": upstreams})
        out = tmp_path / "imported.yaml"
        cli("import", "rabbitmq", "--url", admin.env["RABBITMQ_URL"], "--vhost", vhost,
            "--username", admin.env["RABBITMQ_USERNAME"], "--password-env", "RABBITMQ_PASSWORD", "-o", out, check=0)
        parameters = yaml.safe_load(out.read_text())["targets"]["rabbitmq"]["parameters"]
        assert parameters == {"both-dcs": {"component": "federation-upstream-set", "value": upstreams}}
        cli("plan", out, "--detailed-exitcode", check=0)
        admin.put(f"/api/parameters/federation-upstream-set/{seg(vhost)}/both-dcs", {"value": upstreams[:1]})
        code, output = cli("plan", out, "--detailed-exitcode")
        assert code == 2 and "both-dcs" in output
        cli("apply", out, "--auto-approve", check=0)
        assert admin.get(f"/api/parameters/federation-upstream-set/{seg(vhost)}/both-dcs")["value"] == upstreams
    finally:
        admin.delete_vhost(vhost)


def test_offline_import_of_a_list_valued_parameter_is_a_valid_manifest(tmp_path):
    definitions = tmp_path / "definitions.json"
    definitions.write_text(json.dumps({"parameters": [
        {"component": "federation-upstream-set", "vhost": "/", "name": "both-dcs",
         "value": [{"upstream": "dc2"}, {"upstream": "dc3"}]}]}))
    out = tmp_path / "imported.yaml"
    cli("import", "rabbitmq", "--from-definitions", definitions, "--vhost", "/", "-o", out, check=0)
    cli("validate", out, check=0)
    assert yaml.safe_load(out.read_text())["targets"]["rabbitmq"]["parameters"]["both-dcs"]["value"] == [
        {"upstream": "dc2"}, {"upstream": "dc3"}]
