"""plan/apply/drift from the command line, with a test-double provider and compile step.

Real providers get the same flows against real brokers in their own test files; this
file pins the provider-neutral behaviour: exit codes, saved plans and staleness,
refusals before anything is applied, audit log, JSON and Markdown output.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.memory_provider import Broker, MemoryProvider

import brokerform.compile as compile_step
import brokerform.providers as providers
from brokerform.cli import main
from brokerform.resources import Address, Resource

MANIFEST = """\
targets:
  mq:
    type: rabbitmq
    url: http://127.0.0.1:1
    queues:
      orders: {max_length: 10}
      audit: {}
"""


def fake_compile_target(name, target, channels, loaded):
    return [
        Resource(Address(name, "queue", "", qname), {"arguments": {"x-max-length": q.max_length}} if q.max_length else {},
                 source=("targets", name, "queues", qname), protect=q.protect)
        for qname, q in target.queues.items()
    ]


@pytest.fixture
def broker(monkeypatch):
    state = Broker()
    monkeypatch.setattr(compile_step, "compile_module",
                        lambda target_type: types.SimpleNamespace(compile_target=fake_compile_target))
    providers.register("rabbitmq", lambda name, target, base_dir: MemoryProvider(name, state))
    yield state
    providers.unregister("rabbitmq")


@pytest.fixture
def manifest(tmp_path) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text(MANIFEST)
    return path


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_plan_detailed_exitcode_is_2_with_changes_and_0_after_apply(broker, manifest):
    planned = cli("plan", manifest, "--detailed-exitcode")
    assert planned.exit_code == 2
    assert "Plan: 2 to create, 0 to update, 0 to replace, 0 to delete." in planned.output
    assert cli("apply", manifest, "--auto-approve").exit_code == 0
    again = cli("plan", manifest, "--detailed-exitcode")
    assert again.exit_code == 0
    assert "No changes. Live state matches the manifest." in again.output


def test_text_plan_shows_aligned_property_diffs_and_forced_replacement(broker, manifest):
    cli("apply", manifest, "--auto-approve")
    manifest.write_text(MANIFEST.replace("max_length: 10", "max_length: 20"))
    output = cli("plan", manifest).output
    assert "-/+ queue orders  # forces replacement" in output
    assert '~ arguments.x-max-length   10 -> 20   # forces replacement' in output
    assert "refused: replace needs --allow-replace" in output


def test_apply_refuses_everything_when_one_change_needs_a_flag(broker, manifest):
    cli("apply", manifest, "--auto-approve")
    manifest.write_text(MANIFEST.replace("max_length: 10", "max_length: 20") + "      invoices: {}\n")
    result = cli("apply", manifest, "--auto-approve")
    assert result.exit_code == 1
    assert "Nothing was applied" in result.output
    assert Address("mq", "queue", "", "invoices") not in broker.objects


def test_deleting_a_queue_with_messages_needs_allow_data_loss(broker, manifest):
    cli("apply", manifest, "--auto-approve")
    broker.messages[Address("mq", "queue", "", "audit")] = 7
    manifest.write_text(MANIFEST.replace("      audit: {}\n", ""))
    plan = cli("plan", manifest, "--prune")
    assert "- queue audit  # DESTROYS 7 message(s)" in plan.output
    assert cli("apply", manifest, "--prune", "--auto-approve").exit_code == 1
    assert Address("mq", "queue", "", "audit") in broker.objects
    assert cli("apply", manifest, "--prune", "--allow-data-loss", "--auto-approve").exit_code == 0
    assert Address("mq", "queue", "", "audit") not in broker.objects


def test_saved_plan_applies_and_a_stale_one_is_refused(broker, manifest, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert cli("plan", manifest, "--out", plan_file).exit_code == 0
    broker.objects[Address("mq", "queue", "", "sneaky")] = Resource(Address("mq", "queue", "", "sneaky"))
    stale = cli("apply", "--plan", plan_file)
    assert stale.exit_code == 1
    assert "the live state of target mq changed since the plan was made" in stale.stderr
    assert Address("mq", "queue", "", "orders") not in broker.objects
    assert cli("plan", manifest, "--out", plan_file).exit_code == 0
    assert cli("apply", "--plan", plan_file).exit_code == 0
    assert Address("mq", "queue", "", "orders") in broker.objects


def test_a_saved_plan_whose_changes_were_edited_is_refused(broker, manifest, tmp_path):
    """Apply does what was reviewed: a change added to the file by hand is not silently replaced."""
    plan_file = tmp_path / "plan.json"
    cli("plan", manifest, "--out", plan_file)
    data = json.loads(plan_file.read_text())
    injected = json.loads(json.dumps(data["targets"][0]["changes"][0]))
    injected["address"]["name"] = injected["id"] = "not-planned"
    data["targets"][0]["changes"].append(injected)
    plan_file.write_text(json.dumps(data))
    result = cli("apply", "--plan", plan_file)
    assert result.exit_code == 1
    assert "the changes of target mq in the file are not the ones planned (was the file edited?)" in result.stderr
    assert broker.objects == {}


@pytest.mark.parametrize("edit", ["attribute-after", "duplicate-target"])
def test_a_saved_plan_edited_in_a_value_or_with_a_target_listed_twice_is_refused(broker, manifest, tmp_path, edit):
    plan_file = tmp_path / "plan.json"
    cli("plan", manifest, "--out", plan_file)
    data = json.loads(plan_file.read_text())
    if edit == "attribute-after":
        change = next(c for c in data["targets"][0]["changes"] if c["attributes"])
        change["attributes"][0]["after"] = 999
        reason = "the changes of target mq in the file are not the ones planned (was the file edited?)"
    else:
        data["targets"].append(data["targets"][0])
        reason = "not a brokerform plan file: targets: target 'mq' is listed twice"
    plan_file.write_text(json.dumps(data))
    result = cli("apply", "--plan", plan_file)
    assert result.exit_code == 1
    assert reason in result.stderr
    assert broker.objects == {}


def test_saved_plan_is_refused_when_the_manifest_changed(broker, manifest, tmp_path):
    plan_file = tmp_path / "plan.json"
    cli("plan", manifest, "--out", plan_file)
    manifest.write_text(MANIFEST.replace("max_length: 10", "max_length: 11"))
    result = cli("apply", "--plan", plan_file)
    assert result.exit_code == 1
    assert "the manifest changed since the plan was made" in result.stderr


@pytest.mark.parametrize("text, reason", [
    ("{not json", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ("[" * 100_000 + "]" * 100_000, "maximum recursion depth exceeded while decoding a JSON array from a unicode string"),
    ("[1, 2]", "expected an object, got a list"),
    ('{"format_version": 1, "targets": []}', "manifest: expected an object, got null"),
    ('{"format_version": 1, "manifest": {"path": "m.yaml", "variables": [1]}, "options": {}, "targets": []}',
     "manifest.variables: expected an object, got a list"),
    ('{"format_version": 1, "manifest": {"path": "m.yaml"}, "options": {"prune": "yes"}, "targets": []}',
     "options.prune: expected true or false, got a string"),
    ('{"format_version": 1, "manifest": {"path": "m.yaml"}, "options": {}, "targets": ["mq"]}',
     "targets[0]: expected an object, got a string"),
    ('{"format_version": 1, "manifest": {"path": "m.yaml"}, "options": {}, "targets": [{"target": "mq", '
     '"type": "rabbitmq", "changes": [{"address": {"target": "mq", "kind": "queue", "name": "q"}, "action": "update", '
     '"reason": "drift", "live": {"address": {"target": "mq", "kind": "queue", "name": "q"}, "source": null}}]}]}',
     "targets[0].changes[0].live.source: expected a list, got null"),
], ids=["not-json", "nested-too-deep", "a-list", "no-manifest", "variables-a-list", "option-not-bool",
        "target-not-object", "change-field-null"])
def test_a_file_that_is_not_a_saved_plan_is_refused_naming_it(broker, tmp_path, text, reason):
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(text)
    result = cli("apply", "--plan", plan_file)
    assert result.exit_code == 1
    assert f"{plan_file}: not a brokerform plan file: {reason}" in result.stderr
    assert "internal error" not in result.stderr


def test_a_saved_plan_whose_target_list_was_emptied_is_refused_not_applied_unchecked(broker, manifest, tmp_path):
    """Before: an empty list meant "all targets", so no live-state check ran and apply went ahead."""
    plan_file = tmp_path / "plan.json"
    cli("plan", manifest, "--out", plan_file)
    data = json.loads(plan_file.read_text())
    data["targets"] = []
    plan_file.write_text(json.dumps(data))
    broker.objects[Address("mq", "queue", "", "sneaky")] = Resource(Address("mq", "queue", "", "sneaky"))
    result = cli("apply", "--plan", plan_file)
    assert result.exit_code == 1
    assert f"{plan_file}: not a brokerform plan file: targets: the plan covers no target" in result.stderr
    assert Address("mq", "queue", "", "orders") not in broker.objects


def test_a_plan_with_errors_is_not_saved(broker, manifest, tmp_path):
    """As Terraform: it could never be applied (before, it was saved and apply called it stale)."""
    class Unreachable(MemoryProvider):
        def read(self):
            from brokerform.errors import ProviderError
            raise ProviderError("cannot connect to http://127.0.0.1:1: connection refused")

    providers.register("rabbitmq", lambda name, target, base_dir: Unreachable(name, broker))
    plan_file = tmp_path / "plan.json"
    result = cli("plan", manifest, "--out", plan_file)
    assert result.exit_code == 1
    assert f"Not saved to {plan_file}: the plan has errors or blocked changes." in result.stderr
    assert not plan_file.exists()


def test_a_saved_plan_applied_from_another_directory_says_where_its_manifest_was_expected(
        broker, manifest, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli("plan", "manifest.yaml", "--out", "plan.json")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = cli("apply", "--plan", tmp_path / "plan.json")
    assert result.exit_code == 1
    assert (f"{tmp_path / 'plan.json'}: the manifest it was made from, manifest.yaml, does not exist here (a saved "
            "plan names it relative to where plan ran: apply from there, or give the manifest PATH too)") \
        in result.stderr


def test_a_mistyped_option_exits_1_never_2_which_means_changes_pending(broker, manifest):
    """A CI job reading `plan --detailed-exitcode` must not take a typo for "changes to apply"."""
    result = cli("plan", manifest, "--detailed-exitcode", "--alow-replace")
    assert result.exit_code == 1
    assert "Error: No such option '--alow-replace'. Did you mean '--allow-replace'?" in result.output


def test_apply_without_a_terminal_needs_auto_approve(broker, manifest):
    result = cli("apply", manifest)
    assert result.exit_code == 1
    assert "apply needs confirmation: run it in a terminal or pass --auto-approve" in result.stderr


def test_apply_appends_one_redacted_audit_line_per_target(broker, manifest, tmp_path):
    audit = tmp_path / "audit.jsonl"
    assert cli("apply", manifest, "--auto-approve", "--audit-log", audit).exit_code == 0
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert len(records) == 1
    record = records[0]
    assert record["target"] == "mq" and record["ok"] is True
    assert record["summary"]["create"] == 2
    assert sorted(r["status"] for r in record["results"]) == ["succeeded", "succeeded"]
    assert {"time", "user", "git_commit", "plan_fingerprint"} <= set(record)


def test_partial_failure_is_reported_change_by_change_and_exits_1(broker, manifest):
    broker.fail_permanent.add(Address("mq", "queue", "", "orders"))
    result = cli("apply", manifest, "--auto-approve", "--parallelism", "1")
    assert result.exit_code == 1
    assert "  failed: create mq.queue['orders']: 400 Bad Request: orders refused by the broker" in result.output
    assert "Apply finished with failures" in result.output


def test_json_plan_output_is_machine_readable(broker, manifest):
    data = json.loads(cli("plan", manifest, "--output", "json").output)
    assert data["format_version"] == 1
    assert data["summary"]["create"] == 2
    assert [c["action"] for c in data["targets"][0]["changes"]] == ["create", "create"]


def test_markdown_plan_is_a_pull_request_comment(broker, manifest):
    output = cli("plan", manifest, "--output", "markdown").output
    assert output.startswith("<!-- brokerform-plan -->\n## brokerform plan\n")
    assert "| ➕ create | `queue` `orders` |" in output


@pytest.mark.parametrize("text, cell, code", [
    ("a\rb", "a b", "`a b`"), ("a\r\n| row |", "a \\| row \\|", "`a \\| row \\|`"), ("x\ny", "x y", "`x y`"),
], ids=["cr", "crlf", "lf"])
def test_every_kind_of_line_break_stays_inside_a_markdown_table_cell(text, cell, code):
    from brokerform.output import markdown

    assert (markdown.cell(text), markdown.code(text)) == (cell, code)


def test_markdown_plan_keeps_names_and_values_from_a_pull_request_inert(broker, tmp_path):
    """A name or value must not close the comment's code span or table cell, or become HTML in it."""
    path = tmp_path / "manifest.yaml"
    path.write_text("targets:\n  mq:\n    type: rabbitmq\n    url: http://127.0.0.1:1\n    queues:\n"
                    "      \"a|b`c</details>\": {max_length: 10}\n")
    cli("apply", path, "--auto-approve")
    broker.objects[Address("mq", "queue", "", "a|b`c</details>")].properties["arguments"]["x-max-length"] = "<img src=x>"
    output = cli("plan", path, "--output", "markdown").output
    assert ("| ♻️ replace | `queue` ``a\\|b`c</details>`` | `arguments.x-max-length`: \"&lt;img src=x&gt;\" → 10 "
            "(forces replacement) | refused: replace needs --allow-replace |") in output


def test_an_unreachable_target_is_reported_and_does_not_hide_the_others(broker, tmp_path, monkeypatch):
    class Unreachable(MemoryProvider):
        def read(self):
            from brokerform.errors import ProviderError
            raise ProviderError("cannot connect to http://127.0.0.1:1: connection refused")

    providers.register("rabbitmq", lambda name, target, base_dir:
                       Unreachable(name, broker) if name == "down" else MemoryProvider(name, broker))
    path = tmp_path / "two.yaml"
    path.write_text(MANIFEST + "  down:\n    type: rabbitmq\n    url: http://127.0.0.1:1\n    scope: {vhost: other}\n"
                    "    queues: {x: {}}\n")
    result = cli("plan", path)
    assert result.exit_code == 1
    assert "error: cannot connect to http://127.0.0.1:1: connection refused" in result.output
    assert "+ queue orders" in result.output
    drift = cli("drift", path, "--format", "json")
    assert drift.exit_code == 1
    statuses = {t["target"]: t["status"] for t in json.loads(drift.output)["targets"]}
    assert statuses == {"mq": "drifted", "down": "error"}


def test_drift_exit_code_is_2_when_live_state_differs_and_0_when_in_sync(broker, manifest):
    cli("apply", manifest, "--auto-approve")
    assert cli("drift", manifest).exit_code == 0
    del broker.objects[Address("mq", "queue", "", "audit")]
    drifted = cli("drift", manifest)
    assert drifted.exit_code == 2
    assert "| `mq` | rabbitmq | ⚠️ drifted | 1 | 0 | 0 | 0 | 0 |" in drifted.output


def test_protected_resource_blocks_the_plan_with_exit_1(broker, manifest):
    manifest.write_text(MANIFEST.replace("orders: {max_length: 10}", "orders: {max_length: 10, protect: true}"))
    cli("apply", manifest, "--auto-approve")
    manifest.write_text(MANIFEST.replace("orders: {max_length: 10}", "orders: {max_length: 99, protect: true}"))
    result = cli("plan", manifest, "--allow-replace")
    assert result.exit_code == 1
    assert "BLOCKED: protect: true forbids this replace" in result.output


def test_json_plan_validates_against_the_documented_schema(broker, manifest, tmp_path):
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "plan.schema.json").read_text())
    cli("apply", manifest, "--auto-approve")
    manifest.write_text(MANIFEST.replace("max_length: 10", "max_length: 20"))
    data = json.loads(cli("plan", manifest, "--output", "json").output)
    jsonschema.validate(data, schema)
    orders = next(c for c in data["targets"][0]["changes"] if c["address"]["name"] == "orders")
    assert (orders["action"], orders["forces_replace"]) == ("replace", ["arguments.x-max-length"])


def test_an_unresolvable_secret_reference_is_located_at_its_manifest_line(tmp_path, monkeypatch):
    """Secrets resolve only when a provider connects, long after loading: the error still points at the field."""
    monkeypatch.delenv("BF_TEST_NO_SUCH_PASSWORD", raising=False)
    (tmp_path / "key.bin").write_bytes(b"\x96\x00\x01")
    (tmp_path / "manifest.yaml").write_text("""\
targets:
  k:
    type: kafka
    bootstrap_servers: 127.0.0.1:1
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: admin, password: "${env:BF_TEST_NO_SUCH_PASSWORD}"}
    topics:
      t: {partitions: 1}
  r:
    type: rabbitmq
    url: http://127.0.0.1:1
    username: admin
    password: ${file:key.bin}
    queues:
      q1: {}
""")
    result = CliRunner().invoke(main, ["plan", str(tmp_path / "manifest.yaml")])
    manifest = tmp_path / "manifest.yaml"
    assert result.exit_code == 1
    assert [line.strip() for line in result.output.splitlines() if "error:" in line] == [
        f"error: {manifest}:6:57: targets.k.sasl.password: environment variable BF_TEST_NO_SUCH_PASSWORD is not set",
        f"error: {manifest}:13:15: targets.r.password: {tmp_path / 'key.bin'} is not UTF-8 text",
    ]


def test_ctrl_c_during_apply_finishes_changes_in_flight_reports_the_rest_and_exits_130(broker, tmp_path):
    import signal

    path = tmp_path / "manifest.yaml"
    path.write_text("targets:\n  mq:\n    type: rabbitmq\n    url: http://127.0.0.1:1\n    queues:\n"
                    + "".join(f"      {name}: {{}}\n" for name in ("a", "b", "c", "d")))

    def operator_presses_ctrl_c(change):
        if change.address.name == "b":  # the handler apply installed, called as the signal would call it
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)

    broker.before_apply = operator_presses_ctrl_c
    result = cli("apply", path, "--auto-approve", "--parallelism", "1", "--audit-log", tmp_path / "audit.jsonl")
    assert result.exit_code == 130
    assert sorted(a.name for a in broker.objects) == ["a", "b"]  # b was in flight: it finished
    tail = result.output[result.output.index("Interrupted:"):].splitlines()
    assert tail == [
        "Interrupted: finishing the changes in flight and starting no new ones (interrupt again to stop at once).",
        "mq: 2 succeeded, 0 failed, 2 skipped.",
        "  skipped: create mq.queue['c']: not started: apply was interrupted",
        "  skipped: create mq.queue['d']: not started: apply was interrupted",
        "Apply interrupted: 2 change(s) listed above as skipped were not started. Re-run apply to converge.",
    ]
    record = json.loads((tmp_path / "audit.jsonl").read_text())
    assert (record["interrupted"], record["ok"], [r["status"] for r in record["results"]]) == (
        True, False, ["succeeded", "succeeded", "skipped", "skipped"])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored after apply


def test_ctrl_c_before_any_change_starts_applies_nothing_and_releases_the_lock(broker, manifest, monkeypatch):
    import signal

    from support.memory_provider import MemoryProvider

    original_read = MemoryProvider.read

    def read_then_ctrl_c(self):
        live = original_read(self)
        signal.getsignal(signal.SIGINT)(signal.SIGINT, None)  # as the signal would call apply's handler
        return live

    monkeypatch.setattr(MemoryProvider, "read", read_then_ctrl_c)
    result = cli("apply", manifest, "--auto-approve")
    assert (result.exit_code, result.output.splitlines()[-1]) == (130, "Interrupted before any change was applied.")
    assert broker.objects == {} and broker.calls == []
    monkeypatch.setattr(MemoryProvider, "read", original_read)
    assert cli("apply", manifest, "--auto-approve", "--lock-timeout", "1").exit_code == 0  # the lock was released
    assert sorted(a.name for a in broker.objects) == ["audit", "orders"]


def test_apply_without_a_terminal_prints_a_heartbeat_while_changes_run(broker, manifest, monkeypatch):
    """CI logs show a slow apply is alive, like Terraform's "Still creating..." lines."""
    import re

    import brokerform.apply.runner as runner

    monkeypatch.setattr(runner, "HEARTBEAT_S", 0.05)
    broker.delay = 0.3
    output = cli("apply", manifest, "--auto-approve", "--parallelism", "1").output
    beats = [line for line in output.splitlines() if line.startswith("Still applying")]
    assert beats and all(re.fullmatch(r"Still applying\.\.\. [012] of 2 step\(s\) finished \[\d+s elapsed\]", b)
                         for b in beats)
    broker.objects.clear()  # the same work again, as JSON: stdout must stay one JSON document
    as_json = cli("apply", manifest, "--auto-approve", "--parallelism", "1", "--output", "json").output
    assert json.loads(as_json.splitlines()[-1])["targets"][0]["summary"] == {"succeeded": 2, "failed": 0, "skipped": 0}
    assert "Still applying" not in as_json


def test_an_interrupt_after_the_changes_finished_lets_the_report_and_audit_be_written():
    from brokerform.apply.runner import _Interrupts

    interrupts = _Interrupts()
    with pytest.raises(KeyboardInterrupt):  # before: nothing was applied, stop
        interrupts._handle(2, None)
    with interrupts.executing():
        pass
    interrupts._handle(2, None)  # after: no exception while the report is printed
    assert interrupts.requested.is_set()
