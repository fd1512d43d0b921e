"""Large plans print one line per change, byte for byte as rich would print them."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text

from brokerform.output.plan_text import COMPACT_ABOVE, _render_change, _write_lines, render_plan
from brokerform.plan.model import Action, AttributeChange, Change, Plan, Reason, TargetPlan
from brokerform.resources import Address, Resource


def queue(name: str) -> Address:
    return Address("shop", "queue", "orders", name)


def mixed_changes(count: int) -> list[Change]:
    """Creates, plus one of each kind that adds notes, refusals or red text."""
    changes = [Change(queue(f"q.{i:05d}"), Action.CREATE, Reason.NEW, desired=Resource(queue(f"q.{i:05d}")))
               for i in range(count)]
    live = Resource(queue("full"), {"type": "classic"})
    changes += [
        Change(queue("full"), Action.REPLACE, Reason.IMMUTABLE, [AttributeChange("type", "classic", "quorum", True)],
               Resource(queue("full")), live, destructive=True, messages=1200,
               refused="replace needs --allow-replace; would lose 1200 message(s); needs --allow-data-loss"),
        Change(queue("binding-child"), Action.REPLACE, Reason.DEPENDENCY_REPLACED, live=live,
               note="re-created because shop.queue[orders/full] is replaced"),
        Change(queue("old"), Action.DELETE, Reason.REMOVED, live=live),
        Change(Address("shop", "topic", "", "clicks"), Action.BLOCKED, Reason.IMPOSSIBLE,
               blocked_reason="partitions cannot decrease (12 -> 6)"),
        Change(queue("limits"), Action.UPDATE, Reason.DRIFT, [AttributeChange("arguments.x-max-length", 10, 20)]),
    ]
    return changes


def console(**options) -> Console:
    return Console(file=io.StringIO(), width=60, highlight=False, soft_wrap=True, **options)


@pytest.mark.parametrize("options", [
    {"force_terminal": True, "color_system": "truecolor"},
    {"force_terminal": True, "color_system": "256"},
    {"force_terminal": True, "color_system": "standard"},
    {"force_terminal": True, "color_system": "truecolor", "no_color": True},
    {"force_terminal": False},
], ids=["truecolor", "256", "standard", "no-color", "not-a-terminal"])
def test_compact_lines_are_written_exactly_as_rich_prints_them(options):
    lines: list[Text] = []
    for change in mixed_changes(20):
        _render_change(change, lines, compact=True)
    fast, reference = console(**options), console(**options)
    _write_lines(lines, fast)
    reference.print(Text("\n").join(lines))
    assert fast.file.getvalue() == reference.file.getvalue()
    assert fast.file.getvalue().count("\n") == len(lines) == 25 + 2  # refused and BLOCKED add a line each


def test_a_large_plan_shows_one_line_per_change_then_the_counts():
    changes = mixed_changes(COMPACT_ABOVE)
    out = console()
    render_plan(Plan([TargetPlan("shop", "rabbitmq", changes)]), out)
    text = out.file.getvalue().splitlines()
    assert text[0] == "Target shop (rabbitmq)"
    assert text[1:3] == ["  + queue orders/q.00000", "  + queue orders/q.00001"]
    assert text[COMPACT_ABOVE + 1:COMPACT_ABOVE + 8] == [
        "  -/+ queue orders/full  # forces replacement  # DESTROYS 1200 message(s)",
        "      refused: replace needs --allow-replace; would lose 1200 message(s); needs --allow-data-loss",
        "  -/+ queue orders/binding-child  # re-created because shop.queue[orders/full] is replaced",
        "  - queue orders/old",
        "  ! topic clicks",
        "      BLOCKED: partitions cannot decrease (12 -> 6)",
        "  ~ queue orders/limits",
    ]
    assert text[-4:] == [
        "  300 to create, 1 to update, 2 to replace, 1 to delete, 1 blocked.",
        "",
        "Plan: 300 to create, 1 to update, 2 to replace, 1 to delete. 1 blocked.",
        "1 change(s) are refused as planned; apply will not start without the flags named above.",
    ]
    assert len(text) == 1 + COMPACT_ABOVE + 7 + 4


def test_names_and_unmanaged_addresses_holding_url_passwords_are_redacted():
    """An SNS subscription is named after its endpoint, which may carry user:password@."""
    def subscription(endpoint: str) -> Address:
        return Address("aws", "subscription", "", f"orders -> https:{endpoint}")

    created = subscription("https://hooks:hooksecret999@example.com/hook")
    target = TargetPlan("aws", "aws", changes=[Change(created, Action.CREATE, Reason.NEW, desired=Resource(created))],
                        unmanaged=[subscription("https://hooks:hooksecret123@example.com/old")])
    out = console()
    render_plan(Plan(targets=[target]), out)
    text = out.file.getvalue()
    assert "  + subscription orders -> https:https://hooks:***@example.com/hook" in text
    assert "aws.subscription['orders -> https:https://hooks:***@example.com/old']" in text
    assert "hooksecret" not in text
