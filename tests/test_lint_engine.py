"""The lint engine: configuration layers, environments, suppressions and crash isolation."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from brokerform.errors import ManifestError
from brokerform.lint.engine import run_lint
from brokerform.lint.model import Issue, Rule
from brokerform.lint.rules.message_design.channel_without_schema import ChannelWithoutSchema
from brokerform.manifest.loader import load_manifest

KAFKA_TARGET = """\
targets:
  clicks-kafka:
    type: kafka
    bootstrap_servers: kafka-1.example.com:9093
    security_protocol: SSL
    topics:
      clicks.raw:
        partitions: 6
        replication_factor: 1
"""

ORDERS = """\
targets:
  orders-rmq:
    type: rabbitmq
    url: https://rmq.example.com:15671
    username: orders-admin
channels:
  orders.events:
    target: orders-rmq
    pattern: point-to-point
    requirements:
      delivery: at-least-once
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A throw-away repository root, so no .brokerform.yaml above it is picked up."""
    (tmp_path / ".git").mkdir()
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def lint(path: Path, environment: str | None = None, **kwargs):
    return run_lint(load_manifest(path, environment), environment, **kwargs)


def rule_findings(result, rule_id: str):
    return [f for f in result.findings if f.rule_id == rule_id]


# -- configuration ------------------------------------------------------------------------

def test_manifest_lint_section_disables_a_rule_by_id_or_name(repo):
    by_id = write(repo, "a/manifest.yaml", ORDERS + "lint:\n  disable: [BF101]\n")
    by_name = write(repo, "b/manifest.yaml", ORDERS + "lint:\n  disable: [channel-without-schema]\n")
    assert rule_findings(lint(by_id), "BF101") == []
    assert rule_findings(lint(by_name), "BF101") == []
    assert len(rule_findings(lint(write(repo, "c/manifest.yaml", ORDERS)), "BF101")) == 1


def test_severity_override_changes_the_level_and_off_disables(repo):
    raised = lint(write(repo, "a/manifest.yaml", ORDERS + "lint:\n  severity: {BF101: error}\n"))
    assert [f.severity for f in rule_findings(raised, "BF101")] == ["error"]
    off = lint(write(repo, "b/manifest.yaml", ORDERS + "lint:\n  severity: {BF101: off}\n"))
    assert rule_findings(off, "BF101") == []


def test_rule_options_change_the_threshold(repo):
    manifest = ORDERS + "    contract: {max_message_size: 512KiB}\n"
    assert len(rule_findings(lint(write(repo, "a/manifest.yaml", manifest)), "BF104")) == 1
    relaxed = manifest + "lint:\n  options:\n    BF104: {max_message_size: 1MiB}\n"
    assert rule_findings(lint(write(repo, "b/manifest.yaml", relaxed)), "BF104") == []


def test_environment_overrides_apply_only_with_that_env(repo):
    write(repo, "environments/prod.yaml", "vars: {}\n")
    path = write(repo, "manifest.yaml", ORDERS + textwrap.dedent("""\
        lint:
          environments:
            prod:
              severity: {BF101: error}
        """))
    assert [f.severity for f in rule_findings(lint(repo), "BF101")] == ["warning"]
    assert [f.severity for f in rule_findings(lint(repo, "prod"), "BF101")] == ["error"]
    assert path.is_file()


def test_replication_factor_one_is_info_in_dev_and_error_in_prod(repo):
    write(repo, "environments/dev.yaml", "vars: {}\n")
    write(repo, "environments/prod.yaml", "vars: {}\n")
    write(repo, "manifest.yaml", KAFKA_TARGET)
    assert [f.severity for f in rule_findings(lint(repo), "BF405")] == ["warning"]
    assert [f.severity for f in rule_findings(lint(repo, "dev"), "BF405")] == ["info"]
    assert [f.severity for f in rule_findings(lint(repo, "prod"), "BF405")] == ["error"]


def test_target_environment_field_counts_as_production_without_env(repo):
    path = write(repo, "manifest.yaml", KAFKA_TARGET.replace("    security_protocol: SSL\n",
                                                             "    security_protocol: SSL\n    environment: production\n"))
    assert [f.severity for f in rule_findings(lint(path), "BF405")] == ["error"]


def test_production_environment_names_are_configurable(repo):
    write(repo, "environments/live-eu.yaml", "vars: {}\n")
    write(repo, "manifest.yaml", KAFKA_TARGET + "lint:\n  production_environments: [live-eu]\n")
    assert [f.severity for f in rule_findings(lint(repo, "live-eu"), "BF405")] == ["error"]


def test_brokerform_yaml_at_the_repo_root_configures_and_the_manifest_wins(repo):
    write(repo, ".brokerform.yaml", "lint:\n  disable: [BF101]\n  severity: {BF206: error}\n")
    nested = write(repo, "topologies/orders/manifest.yaml", ORDERS + "lint:\n  severity: {BF206: info}\n")
    result = lint(nested)
    assert rule_findings(result, "BF101") == []
    assert [f.severity for f in rule_findings(result, "BF206")] == ["info"]


def test_brokerform_yaml_next_to_the_manifest_beats_the_one_above(repo):
    write(repo, ".brokerform.yaml", "lint:\n  severity: {BF206: error}\n")
    write(repo, "orders/.brokerform.yaml", "lint:\n  severity: {BF206: info}\n")
    path = write(repo, "orders/manifest.yaml", ORDERS)
    assert [f.severity for f in rule_findings(lint(path), "BF206")] == ["info"]


def test_a_misspelt_key_in_brokerform_yaml_is_worded_like_the_manifests_own_lint_block(repo):
    config = write(repo, ".brokerform.yaml", "lint:\n  disabel: [BF101]\n  severity: [BF206]\n")
    path = write(repo, "manifest.yaml", ORDERS)
    with pytest.raises(ManifestError) as caught:
        lint(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{config}:2:3: lint.disabel: unknown field 'disabel'; did you mean 'disable'?",
        f"{config}:3:13: lint.severity: expected a mapping, got a list",
    ]


def test_unknown_rule_in_configuration_is_a_located_error(repo):
    path = write(repo, "manifest.yaml", ORDERS + "lint:\n  disable:\n    - BF101\n    - BF999\n")
    with pytest.raises(ManifestError) as caught:
        lint(path)
    [problem] = caught.value.problems
    assert (problem.location.line, problem.path, problem.message) == (15, "lint.disable[1]", "unknown lint rule 'BF999'")


def test_unknown_option_and_wrong_type_are_located_errors(repo):
    write(repo, ".brokerform.yaml", "lint:\n  options:\n    BF401:\n      max_queue: 10\n      \n")
    path = write(repo, "manifest.yaml", ORDERS + "lint:\n  options:\n    BF205: {max: lots}\n")
    with pytest.raises(ManifestError) as caught:
        lint(path)
    messages = sorted(str(p) for p in caught.value.problems)
    assert messages == sorted([
        f"{repo / '.brokerform.yaml'}:4:7: lint.options.BF401.max_queue: BF401 has no option 'max_queue'; "
        "did you mean 'max_queues'?",
        f"{path}:14:13: lint.options.BF205.max: expected an integer >= 2, got 'lots'",
    ])


# -- suppressions ---------------------------------------------------------------------------

def test_suppression_on_the_resource_key_line_covers_a_finding_deeper_inside(repo):
    text = ORDERS.replace("  orders.events:\n", "  orders.events:  # brokerform:ignore BF206 -- consumers upsert by order id\n")
    result = lint(write(repo, "manifest.yaml", text))
    assert rule_findings(result, "BF206") == []
    [hidden] = [f for f in result.suppressed if f.rule_id == "BF206"]
    assert (hidden.line, hidden.suppressed_by) == (11, "consumers upsert by order id")
    assert rule_findings(result, "BF001") == []


def test_suppression_on_the_line_above_covers_the_next_line(repo):
    text = ORDERS.replace("      delivery: at-least-once\n",
                          "      # brokerform:ignore BF206 -- idempotent by design\n      delivery: at-least-once\n")
    result = lint(write(repo, "manifest.yaml", text))
    assert rule_findings(result, "BF206") == []
    assert [f.rule_id for f in result.suppressed] == ["BF206"]


def test_one_comment_can_suppress_several_rules(repo):
    text = ORDERS.replace("  orders.events:\n", "  orders.events:  # brokerform:ignore BF101, BF501 -- prototype\n")
    result = lint(write(repo, "manifest.yaml", text))
    assert sorted(f.rule_id for f in result.suppressed) == ["BF101", "BF501"]


def test_suppression_without_reason_still_suppresses_but_is_an_error(repo):
    text = ORDERS.replace("  orders.events:\n", "  orders.events:  # brokerform:ignore BF206\n")
    result = lint(write(repo, "manifest.yaml", text))
    assert rule_findings(result, "BF206") == []
    [finding] = rule_findings(result, "BF002")
    assert (finding.line, finding.severity) == (7, "error")


def test_unused_and_unknown_suppressions_are_reported(repo):
    text = ORDERS.replace("  orders.events:\n", "  orders.events:  # brokerform:ignore BF613, BF977 -- old\n")
    result = lint(write(repo, "manifest.yaml", text))
    messages = sorted(f.message for f in rule_findings(result, "BF001"))
    assert messages == ["suppression names unknown rule 'BF977'", "unused suppression: BF613 reports nothing on line 7"]


def test_suppression_of_a_disabled_rule_is_not_reported_unused(repo):
    text = ORDERS.replace("  orders.events:\n", "  orders.events:  # brokerform:ignore BF613 -- kafka only\n")
    result = lint(write(repo, "manifest.yaml", text + "lint:\n  disable: [BF613]\n"))
    assert rule_findings(result, "BF001") == []


def test_comment_marker_inside_a_quoted_value_is_not_a_suppression(repo):
    text = ORDERS + "    description: 'see # brokerform:ignore docs'\n"
    result = lint(write(repo, "manifest.yaml", text))
    assert rule_findings(result, "BF001") == [] and rule_findings(result, "BF002") == []


# -- robustness -------------------------------------------------------------------------------

class ExplodingRule(Rule):
    id = "BF699"
    name = "exploding"
    title = "Always crashes"
    rationale = "Used by the tests to check that a crashing rule becomes a finding."
    fix = "none"
    source = "tests"

    def check(self, ctx):
        yield Issue(("channels",), "never seen")
        raise KeyError("no such field")


def test_a_crashing_rule_becomes_a_finding_and_other_rules_still_run(repo):
    result = lint(write(repo, "manifest.yaml", ORDERS), rules=[ExplodingRule, ChannelWithoutSchema])
    [crash] = rule_findings(result, "BF000")
    assert crash.severity == "error"
    assert crash.message.startswith("rule BF699 (exploding) crashed: KeyError: 'no such field'")
    assert len(rule_findings(result, "BF101")) == 1


def test_compiled_resources_are_optional_for_rules(repo):
    from brokerform.lint.context import LintContext

    ctx = LintContext(load_manifest(write(repo, "manifest.yaml", ORDERS)))
    assert isinstance(ctx.compiled(), dict)


def test_findings_are_sorted_by_file_and_line(repo):
    result = lint(write(repo, "manifest.yaml", ORDERS))
    keys = [(f.file, f.line, f.column, f.rule_id) for f in result.findings]
    assert keys == sorted(keys)
