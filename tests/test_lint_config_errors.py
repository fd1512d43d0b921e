"""Mistakes in lint settings (`.brokerform.yaml`, a manifest's `lint:`) are located errors.

Each one is reported when the configuration is read, before any rule runs, as
`FILE:LINE:COL: field.path: message` with exit 1: never as a crashed rule (BF000), an internal
error, or silently ignored settings.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from brokerform.cli import main
from brokerform.errors import ManifestError
from brokerform.lint.engine import run_lint
from brokerform.manifest.loader import load_manifest

CLICKSTREAM = """\
targets:
  clicks-kafka:
    type: kafka
    bootstrap_servers: kafka-1.example.com:9093
    security_protocol: SSL
channels:
  clicks.raw:
    target: clicks-kafka
    pattern: point-to-point
    partitions: 12
    replication_factor: 3
    owner: team-web
    contact: "#web"
    contract:
      max_message_size: 64KiB
    requirements: {throughput: 20000, message_size: 1KiB, consumers: 6}
"""

PAYMENTS = """\
targets:
  payments-sb:
    type: azure-servicebus
    subscription_id: 00000000-0000-0000-0000-000000000000
    resource_group: rg-messaging
    namespace: ns-payments
    queues:
      settlements:
        lock_duration: 1m
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    """A repository root holding the manifest, used as the current directory."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "manifest.yaml").write_text(CLICKSTREAM, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def config(repo: Path, text: str, name: str = ".brokerform.yaml") -> Path:
    path = repo / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        run_lint(load_manifest(path))
    return [str(p) for p in caught.value.problems]


def lint_cli(*args: str):
    return CliRunner().invoke(main, ["lint", *args])


# -- 1. option values are checked against the option's type before any rule runs ---------

@pytest.mark.parametrize("options, expected", [
    ("BF104: {max_message_size: 12 parsecs}",
     "2:21: lint.options.BF104.max_message_size: expected a size like 512B, 256KiB, 1MiB or 10GB, got '12 parsecs'"),
    ("BF104: {max_message_size: -1KiB}",
     "2:21: lint.options.BF104.max_message_size: expected a size like 512B, 256KiB, 1MiB or 10GB, got '-1KiB'"),
    ("BF104: {max_message_size: 0}",
     "2:21: lint.options.BF104.max_message_size: expected a size > 0 like 256KiB or 10MB, got 0"),
    ("BF403: {partition_throughput: fast}",
     "2:21: lint.options.BF403.partition_throughput: expected a size like 512B, 256KiB, 1MiB or 10GB, got 'fast'"),
    ("BF403: {partition_throughput: 0B}",
     "2:21: lint.options.BF403.partition_throughput: expected a size > 0 like 256KiB or 10MB, got '0B'"),
    ("BF403: {partition_messages_per_second: 0}",
     "2:21: lint.options.BF403.partition_messages_per_second: expected a number > 0, got 0"),
    ("BF403: {partition_messages_per_second: .nan}",
     "2:21: lint.options.BF403.partition_messages_per_second: expected a number > 0, got nan"),
    ("BF608: {min_lock_duration: forever}",
     "2:21: lint.options.BF608.min_lock_duration: expected a duration like 500ms, 30s, 15m, 12h or 7d, "
     "got 'forever'"),
    ("BF608: {min_lock_duration: 0s}",
     "2:21: lint.options.BF608.min_lock_duration: expected a duration > 0 like 30s or 5m, got '0s'"),
    ("BF106: {required: [1, 2]}",
     "2:32: lint.options.BF106.required[0]: expected a non-empty string, got 1"),
    ("BF106: {required: message-id}",
     "2:21: lint.options.BF106.required: expected a list of strings, got 'message-id'"),
    ("BF401: {max_queues: -5}",
     "2:21: lint.options.BF401.max_queues: expected an integer >= 1, got -5"),
    ("BF401: {max_queues: 0}",
     "2:21: lint.options.BF401.max_queues: expected an integer >= 1, got 0"),
    ("BF401: {max_queues: true}",
     "2:21: lint.options.BF401.max_queues: expected an integer >= 1, got True"),
    ("BF401: {max_queues: 2.5}",
     "2:21: lint.options.BF401.max_queues: expected an integer >= 1, got 2.5"),
    ("BF402: {min_instances: 1}",
     "2:21: lint.options.BF402.min_instances: expected an integer >= 2, got 1"),
    ("BF205: {max: 1}",
     "2:21: lint.options.BF205.max: expected an integer >= 2, got 1"),
    ("BF405: {min_replication_factor: 0}",
     "2:21: lint.options.BF405.min_replication_factor: expected an integer >= 1, got 0"),
    ("BF210: {max_fixed_attempts: -1}",
     "2:21: lint.options.BF210.max_fixed_attempts: expected an integer >= 0, got -1"),
])
def test_an_option_value_the_rule_cannot_use_is_a_located_configuration_error(repo, options, expected):
    config(repo, f"lint:\n  options: {{{options}}}\n")
    assert problems(repo / "manifest.yaml") == [f".brokerform.yaml:{expected}"]


def test_a_bad_option_value_fails_lint_with_exit_1_before_any_rule_runs(repo):
    config(repo, "lint:\n  options: {BF403: {partition_throughput: 0B, partition_messages_per_second: 0}}\n")
    result = lint_cli("manifest.yaml")
    assert result.exit_code == 1
    assert result.output == (
        ".brokerform.yaml:2:21: lint.options.BF403.partition_throughput: expected a size > 0 like 256KiB or 10MB, "
        "got '0B'\n"
        ".brokerform.yaml:2:47: lint.options.BF403.partition_messages_per_second: expected a number > 0, got 0\n"
        "error: 2 problem(s) found\n"
    )


def test_a_bad_option_value_in_the_manifests_lint_section_points_at_the_manifest(repo):
    manifest = repo / "manifest.yaml"
    manifest.write_text(CLICKSTREAM + "lint:\n  options:\n    BF104: {max_message_size: 12 parsecs}\n")
    assert problems(manifest) == [
        f"{manifest}:19:13: lint.options.BF104.max_message_size: "
        "expected a size like 512B, 256KiB, 1MiB or 10GB, got '12 parsecs'",
    ]


def test_a_bad_option_value_in_another_environments_override_is_reported_too(repo):
    config(repo, """\
        lint:
          environments:
            prod:
              options: {BF401: {max_queues: lots}}
        """)
    assert problems(repo / "manifest.yaml") == [
        f".brokerform.yaml:4:25: lint.environments.prod.options.BF401.max_queues: "
        "expected an integer >= 1, got 'lots'",
    ]


def test_options_with_units_reach_the_rule_as_the_configured_threshold(repo):
    (repo / "manifest.yaml").write_text(PAYMENTS, encoding="utf-8")
    config(repo, "lint:\n  options: {BF608: {min_lock_duration: 2m}}\n")
    result = run_lint(load_manifest(repo / "manifest.yaml"))
    assert [f.message for f in result.findings if f.rule_id == "BF608"] == ["lock duration 1m is below 2m"]
    assert not [f for f in result.findings if f.rule_id == "BF000"]


def test_sizes_and_rates_configured_for_kafka_partitions_change_the_partitions_needed(repo):
    config(repo, "lint:\n  options: {BF403: {partition_throughput: 1MB, partition_messages_per_second: 1000}}\n")
    result = run_lint(load_manifest(repo / "manifest.yaml"))
    assert [f.message for f in result.findings if f.rule_id == "BF403"] == [
        "channel 'clicks.raw' has 12 partition(s) but 20000 msg/s need at least 21",
    ]


def test_zero_fixed_retry_attempts_is_a_valid_policy_flagging_every_fixed_retry(repo):
    manifest = repo / "manifest.yaml"
    manifest.write_text(CLICKSTREAM + "    retry: {attempts: 1, backoff: fixed}\n"
                        "lint:\n  options: {BF210: {max_fixed_attempts: 0}}\n")
    result = run_lint(load_manifest(manifest))
    assert [f.message for f in result.findings if f.rule_id == "BF210"] == [
        "channel 'clicks.raw' retries 1 times with a fixed delay",
    ]


# -- 2. unknown keys, contradictions and unusable config files are refused ------------------

@pytest.mark.parametrize("text, expected", [
    ("lnt: {disable: [BF305]}\n", "1:1: lnt: unknown field 'lnt'; did you mean 'lint'?"),
    ("disable: [BF305]\n", "1:1: disable: unknown field 'disable'; lint settings go under `lint:` (lint.disable)"),
    ("lint:\n  disable: [BF305]\nextra: 1\n", "3:1: extra: unknown field 'extra'; expected one of: lint"),
])
def test_an_unknown_top_level_key_in_brokerform_yaml_is_an_error_with_a_hint(repo, text, expected):
    config(repo, text)
    assert problems(repo / "manifest.yaml") == [f".brokerform.yaml:{expected}"]


def test_a_misspelt_lint_key_fails_the_command_instead_of_being_ignored(repo):
    config(repo, "lnt: {disable: [BF305]}\n")
    result = lint_cli("manifest.yaml")
    assert result.exit_code == 1
    assert result.output == (".brokerform.yaml:1:1: lnt: unknown field 'lnt'; did you mean 'lint'?\n"
                             "error: 1 problem(s) found\n")


def test_enabling_and_disabling_the_same_rule_in_one_block_is_an_error(repo):
    config(repo, "lint:\n  disable: [BF305, BF503]\n  enable: [no-contact]\n")
    assert problems(repo / "manifest.yaml") == [
        f".brokerform.yaml:3:12: lint.enable[0]: BF503 is also disabled here (lint.disable[1]): "
        "a rule is either enabled or disabled; remove one",
    ]


def test_enabling_a_rule_and_setting_it_off_in_one_block_is_an_error(repo):
    config(repo, "lint:\n  enable: [no-contact]\n  severity: {BF503: off}\n")
    assert problems(repo / "manifest.yaml") == [
        ".brokerform.yaml:3:14: lint.severity.BF503: BF503 is enabled here (lint.enable[0]) and set to off: remove one",
    ]


def test_an_environment_override_or_a_nearer_file_may_enable_what_a_base_setting_disables(repo):
    config(repo, "lint:\n  disable: [BF101]\n  environments:\n    prod:\n      enable: [BF101]\n")
    manifest = repo / "manifest.yaml"
    assert not [f for f in run_lint(load_manifest(manifest)).findings if f.rule_id == "BF101"]
    manifest.write_text(CLICKSTREAM + "lint:\n  enable: [BF101]\n")
    result = run_lint(load_manifest(manifest))
    assert [f.message for f in result.findings if f.rule_id == "BF101"] == [
        "channel 'clicks.raw' declares no message schema (contract.schema)",
    ]


def test_a_brokerform_yaml_that_is_a_directory_is_an_error_naming_it(repo):
    (repo / ".brokerform.yaml").mkdir()
    result = lint_cli("manifest.yaml")
    assert result.exit_code == 1
    assert result.output == (".brokerform.yaml: is a directory, not a lint configuration file\n"
                             "error: 1 problem(s) found\n")


def test_a_dangling_brokerform_yaml_symlink_is_an_error_naming_its_target(repo):
    (repo / ".brokerform.yaml").symlink_to("shared/lint-settings.yaml")
    assert problems(repo / "manifest.yaml") == [
        f".brokerform.yaml: is a broken symlink: its target 'shared/lint-settings.yaml' does not exist",
    ]


def test_a_brokerform_yaml_symlink_loop_is_an_error(repo):
    os.symlink(".brokerform.yml", repo / ".brokerform.yaml")
    os.symlink(".brokerform.yaml", repo / ".brokerform.yml")
    assert problems(repo / "manifest.yaml") == [
        f".brokerform.yaml: is a symlink loop, not a lint configuration file",
    ]


def test_a_symlinked_brokerform_yaml_is_read_through_the_link(repo):
    (repo / "shared").mkdir()
    config(repo, "lint:\n  disable: [BF101]\n", "shared/lint.yaml")
    (repo / ".brokerform.yaml").symlink_to("shared/lint.yaml")
    result = run_lint(load_manifest(repo / "manifest.yaml"))
    assert sorted(f.rule_id for f in result.findings) == ["BF106", "BF201", "BF501"]


# -- 3. configuration files are UTF-8 text, reported like manifests ------------------------

def test_a_latin1_brokerform_yaml_is_not_valid_utf8_text(repo):
    (repo / ".brokerform.yaml").write_bytes("lint:\n  disable: [BF305]  # caf\u00e9\n".encode("latin-1"))
    result = lint_cli("manifest.yaml")
    assert result.exit_code == 1
    assert result.output == ".brokerform.yaml:2:1: not valid UTF-8 text\nerror: 1 problem(s) found\n"


def test_a_binary_file_given_with_config_is_not_a_text_file(repo):
    (repo / "lint.bin").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00\xff\xfe")
    result = lint_cli("manifest.yaml", "--config", "lint.bin")
    assert result.exit_code == 1
    assert result.output == "lint.bin:1:1: not a text file (contains NUL bytes)\nerror: 1 problem(s) found\n"


def test_a_utf8_brokerform_yaml_with_a_byte_order_mark_and_crlf_is_read(repo):
    (repo / ".brokerform.yaml").write_bytes(b"\xef\xbb\xbflint:\r\n  disable: [BF101]\r\n")
    result = run_lint(load_manifest(repo / "manifest.yaml"))
    assert sorted(f.rule_id for f in result.findings) == ["BF106", "BF201", "BF501"]
