"""One manifest serves dev, staging and prod: jinja2 variables and environment overlays."""

from __future__ import annotations

from pathlib import Path

import pytest

from brokerform.errors import ManifestError
from brokerform.manifest.loader import available_environments, load_manifest

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "examples" / "multi-broker-shop"


def test_overlay_variables_change_partitions_per_environment():
    dev = load_manifest(SHOP, "dev").manifest
    prod = load_manifest(SHOP, "prod").manifest
    assert dev.channels["shop.dev.clicks"].partitions == 3
    assert prod.channels["shop.prod.clicks"].partitions == 12
    assert prod.channels["shop.prod.clicks"].replication_factor == 3


def test_overlay_deep_merges_mappings_and_replaces_scalars():
    prod = load_manifest(SHOP, "prod").manifest
    assert prod.targets["shop-servicebus"].namespace_settings.sku == "Premium"
    assert prod.targets["shop-servicebus"].namespace_settings.minimum_tls_version == "1.2"
    assert prod.channels["shop.orders"].monitoring.max_depth == 20000
    assert prod.channels["shop.orders"].target == "shop-rabbit"


def test_environment_name_is_available_to_templates():
    assert load_manifest(SHOP, "dev").manifest.targets["shop-rabbit"].scope.vhost == "shop-dev"
    assert load_manifest(SHOP).manifest.targets["shop-rabbit"].scope.vhost == "shop-default"


def test_cli_variables_override_overlay_variables():
    loaded = load_manifest(SHOP, "prod", {"click_partitions": 24})
    assert loaded.manifest.channels["shop.prod.clicks"].partitions == 24


def test_unknown_environment_lists_the_available_ones():
    assert available_environments(SHOP) == ["dev", "prod"]
    with pytest.raises(ManifestError) as err:
        load_manifest(SHOP, "staging")
    assert str(err.value.problems[0]) == f"{SHOP}/environments: no overlay for environment 'staging' (available: dev, prod)"


def test_overlay_values_are_located_in_the_overlay_file(tmp_path):
    (tmp_path / "environments").mkdir()
    (tmp_path / "m.yaml").write_text(
        "targets:\n  k:\n    type: kafka\n    bootstrap_servers: h:1\n    topics:\n      t: {partitions: 3}\n"
    )
    (tmp_path / "environments" / "prod.yaml").write_text("targets:\n  k:\n    topics:\n      t: {partitions: zero}\n")
    with pytest.raises(ManifestError) as err:
        load_manifest(tmp_path, "prod")
    problem = err.value.problems[0]
    assert (problem.location.file, problem.location.line, problem.path) == (
        str(tmp_path / "environments" / "prod.yaml"), 4, "targets.k.topics.t.partitions")


def test_overlay_vars_that_are_not_a_mapping_are_located_in_the_overlay_file(tmp_path):
    (tmp_path / "environments").mkdir()
    (tmp_path / "m.yaml").write_text("targets:\n  k:\n    type: kafka\n    bootstrap_servers: h:1\n")
    (tmp_path / "environments" / "prod.yaml").write_text("# prod\nvars: 5\n")
    with pytest.raises(ManifestError) as err:
        load_manifest(tmp_path, "prod")
    assert [str(p) for p in err.value.problems] == [
        f"{tmp_path / 'environments' / 'prod.yaml'}:2:7: vars: expected a mapping of template variables"]


def test_null_in_an_overlay_removes_a_declaration(tmp_path):
    (tmp_path / "environments").mkdir()
    (tmp_path / "m.yaml").write_text(
        "targets:\n  r:\n    type: rabbitmq\n    url: http://x\n    queues:\n      debug: {}\n      orders: {}\n"
    )
    (tmp_path / "environments" / "prod.yaml").write_text("targets:\n  r:\n    queues:\n      debug: null\n")
    assert list(load_manifest(tmp_path, "prod").manifest.targets["r"].queues) == ["orders"]


def test_env_references_in_connection_fields_expand_but_secrets_stay_references(monkeypatch, tmp_path):
    monkeypatch.setenv("BF_URL", "http://mq.internal:15672")
    (tmp_path / "m.yaml").write_text(
        "targets:\n  r:\n    type: rabbitmq\n    url: ${env:BF_URL}\n    password: ${env:BF_PASS}\n"
    )
    target = load_manifest(tmp_path / "m.yaml").manifest.targets["r"]
    assert (target.url, target.password) == ("http://mq.internal:15672", "${env:BF_PASS}")


@pytest.mark.parametrize("value", ["region", "=eu-west-1", " =eu-west-1"])
def test_a_var_without_a_key_is_a_usage_error(value):
    from click.testing import CliRunner

    from brokerform.cli import main

    example = Path(__file__).resolve().parents[1] / "examples" / "rabbitmq-orders"
    result = CliRunner().invoke(main, ["validate", str(example), "--var", value])
    assert result.exit_code == 1
    assert f"Invalid value for --var: expected KEY=VALUE, got {value!r}" in result.output


SANDBOXED = """brokerform: 1
targets:
  local:
    type: rabbitmq
    url: http://127.0.0.1:15672
    queues:
{line}
"""


@pytest.mark.parametrize(("line", "message"), [
    ("      q1: {type: \"{{ cycler.__init__.__globals__.os.popen('id').read() }}\"}",
     "template: not allowed in a manifest template: access to attribute '__init__' of 'type' object is unsafe."),
    ("      q1: {type: \"{{ ''.__class__.__mro__ }}\"}",
     "template: not allowed in a manifest template: access to attribute '__class__' of 'str' object is unsafe."),
    ("      q1: {type: \"{{ 'x' * 100000000 }}\"}",
     "template: not allowed in a manifest template: repeating a str 100000000 times would exceed 67,108,864 items"),
    ("      q1: {type: \"{{ 10 ** 100000000 }}\"}",
     "template: not allowed in a manifest template: 10 ** 100000000 is larger than 4096 bits"),
    ("{% for i in range(10000000) %}      q{{ i }}: {type: classic}\n{% endfor %}",
     "template: OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000)."),
])
def test_templates_render_in_a_sandbox_without_python_internals_or_runaway_sizes(tmp_path, line, message):
    """A pull request's template must not run commands in CI next to the broker credentials."""
    path = tmp_path / "manifest.yaml"
    path.write_text(SANDBOXED.format(line=line))
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    (problem,) = err.value.problems
    assert (problem.location.file, problem.location.line, problem.message) == (str(path), 7, message)


def test_a_template_whose_output_runs_away_is_refused(tmp_path, monkeypatch):
    from brokerform.manifest import templating

    monkeypatch.setattr(templating, "MAX_RENDERED_CHARS", 10_000)
    path = tmp_path / "manifest.yaml"
    path.write_text(SANDBOXED.format(line="{% for i in range(100000) %}      q{{ i }}: {type: classic}\n{% endfor %}"))
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    assert [p.message for p in err.value.problems] == ["template: the rendered file passes 10,000 characters"]


def test_sandboxed_templates_keep_loops_filters_and_string_methods(tmp_path):
    path = tmp_path / "manifest.yaml"
    path.write_text(SANDBOXED.format(line=(
        "{% for name in ['a', 'b'] %}      {{ name.upper() }}.{{ '%02d' | format(loop.index) }}: "
        "{type: classic, max_length: {{ 2 ** 10 * 3 }}}\n{% endfor %}")))
    queues = load_manifest(path).manifest.targets["local"].queues
    assert {name: q.max_length for name, q in queues.items()} == {"A.01": 3072, "B.02": 3072}


@pytest.mark.parametrize("name", ["../environments/dev", "", "prod/../dev", "..", "-x"])
def test_an_environment_is_a_name_not_a_path(name):
    from click.testing import CliRunner

    from brokerform.cli import main

    result = CliRunner().invoke(main, ["validate", str(SHOP), "--env", name])
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        1, f"Error: Invalid value for '--env': {name!r} is not an environment name: letters, digits, '_', '.' and '-', "
           "naming environments/NAME.yaml")
