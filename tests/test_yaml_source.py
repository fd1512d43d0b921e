"""Parsing YAML: plain documents skip recording positions until one is asked for, and agree with
the located walk on every value and every position."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from brokerform.errors import Location
from brokerform.manifest import yamlsource
from brokerform.manifest.yamlsource import YamlProblems, parse_yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = sorted(p for p in (ROOT / "examples").rglob("*.yaml") if "{{" not in p.read_text())

PLAIN = """\
targets:
  shop:
    type: rabbitmq
    queues:
      orders: {type: quorum, max_length: 5000, single_active_consumer: true}
      audit:
        message_ttl: 7d
        dead_letter_exchange: ~
    bindings:
      - {source: events, destination: orders, routing_key: "order.*"}
"""


def located(text: str, filename: str):
    """What the located walk alone gives (the fast path bypassed)."""
    return yamlsource._located(text, filename)


def test_a_plain_document_gives_exact_positions_when_asked():
    data, source = parse_yaml(PLAIN, "shop.yaml")
    assert data["targets"]["shop"]["queues"]["orders"] == {
        "type": "quorum", "max_length": 5000, "single_active_consumer": True}
    assert data["targets"]["shop"]["queues"]["audit"] == {"message_ttl": "7d", "dead_letter_exchange": None}
    assert source.locate(("targets", "shop", "queues", "orders", "max_length")) == Location("shop.yaml", 5, 42)
    assert source.locate(("targets", "shop", "queues", "audit"), key=True) == Location("shop.yaml", 6, 7)
    assert source.locate(("targets", "shop", "bindings", 0, "routing_key")) == Location("shop.yaml", 10, 60)


def test_deferred_positions_are_those_of_the_located_walk():
    _, deferred = parse_yaml(PLAIN, "shop.yaml")
    _, eager = located(PLAIN, "shop.yaml")
    assert (deferred.values, deferred.keys) == (eager.values, eager.keys)


def test_positions_asked_for_at_parse_time_are_the_same():
    _, eager = parse_yaml(PLAIN, "shop.yaml", positions=True)
    _, reference = located(PLAIN, "shop.yaml")
    assert (eager.values, eager.keys) == (reference.values, reference.keys)


def test_deferred_positions_are_built_without_the_cyclic_collector():
    """Building them is a second full parse; with the collector running it took twice as long."""
    text = "queues:\n" + "".join(f"  q{i}: {{type: classic, max_length: {i}}}\n" for i in range(3000))
    _, source = parse_yaml(text, "big.yaml")
    collections: list[int] = []

    def record(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    gc.callbacks.append(record)
    try:
        assert source.locate(("queues", "q2999", "max_length")) == Location("big.yaml", 3001, 38)
    finally:
        gc.callbacks.remove(record)
    assert collections == []


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_both_walks_agree_on_every_example(path):
    text = path.read_text()
    data, source = parse_yaml(text, str(path))
    eager_data, eager = located(text, str(path))
    assert data == eager_data
    assert (source.values, source.keys) == (eager.values, eager.keys)


@pytest.mark.parametrize("text, expected", [
    ("base: &b {a: 1}\ncopy: *b\n", {"base": {"a": 1}, "copy": {"a": 1}}),
    ("base: &b {a: 1}\nmerged: {<<: *b, c: 2}\n", {"base": {"a": 1}, "merged": {"a": 1, "c": 2}}),
    ("ratio: 0.5\nhex: 0x1F\nnegative: -3\n", {"ratio": 0.5, "hex": 31, "negative": -3}),
    ("1: one\n", {1: "one"}),
])
def test_documents_outside_the_plain_subset_parse_as_before(text, expected):
    data, source = parse_yaml(text, "f.yaml")
    assert data == expected
    assert source.locate((next(iter(expected)),), key=True) == Location("f.yaml", 1, 1)


@pytest.mark.parametrize("text", [
    "a: " + "[" * 100_000 + "]" * 100_000 + "\n",  # overflowed the C stack: a segmentation fault
    "a:\n" + "".join(" " * i + "- \n" for i in range(1, 400)),
], ids=["flow", "block"])
def test_collections_nested_too_deep_are_refused_with_a_location(text):
    with pytest.raises(YamlProblems) as raised:
        parse_yaml(text, "deep.yaml")
    [problem] = raised.value.problems
    assert str(problem).startswith("deep.yaml:")
    # brokerform's cap, or (PyYAML >= 6.0.4 on 100,000 brackets) libyaml's own, met first while scanning ahead
    assert problem.message in ("collections nested more than 128 levels deep",
                               "while increasing flow level exceeded maximum nesting depth")


def test_nesting_up_to_the_limit_parses():
    data, _ = parse_yaml("[" * 128 + "]" * 128, "f.yaml")
    for _ in range(127):
        data = data[0]
    assert data == []


@pytest.mark.parametrize("text, message", [
    ("a: 1\na: 2\n", "f.yaml:2:1: duplicate key 'a' (first defined at line 1)"),
    ("a: !custom x\n", "f.yaml:1:4: a: unsupported YAML tag !custom"),
    ("? [x]\n: 1\n", "f.yaml:1:3: mapping keys must be plain scalars"),
])
def test_problems_the_fast_walk_leaves_to_the_located_walk_are_still_reported(text, message):
    with pytest.raises(YamlProblems) as raised:
        parse_yaml(text, "f.yaml")
    assert [str(p) for p in raised.value.problems] == [message]
