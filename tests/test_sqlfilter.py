"""Service Bus SQL filters and rule actions are checked against Microsoft's documented grammar
("Subscription Rule SQL Filter Syntax", "Subscription Rule SQL Action Syntax") at load time, so
`validate` and `plan` refuse what Azure would refuse at apply, with the column of the mistake.

Accepted texts come from Microsoft's documentation and samples, the examples and the shared
corpus; where the documentation is vague the checker accepts (a false refusal cannot be worked
around, a missed error is still caught by Azure).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from brokerform.cli import main
from brokerform.manifest.loader import load_raw
from brokerform.model.base import sql_problem
from brokerform.model.sqlfilter import MAX_DEPTH, action_problem, filter_problem

ROOT = Path(__file__).resolve().parents[1]

DOCUMENTED_FILTERS = [
    # Filter syntax page and filter examples page
    "sys.Label LIKE '%bus%'",
    "sys.label LIKE '%bus%'",
    "sys.messageid = 'xxxx'",
    "sys.correlationid like 'abc-%'",
    "sys.Label LIKE '%bus%' OR user.tag IN ('queue', 'topic', 'subscription')",
    "MessageProperty = 'A'",
    "user.SuperHero like 'SuperMan%'",
    "\"http://schemas.microsoft.com/xrm/2011/Claims/EntityLogicalName\" = 'account'",
    "MessageProperty = 1",
    "MessageProperty > 1",
    "MessageProperty > 2.08",
    "MessageProperty = 1 AND MessageProperty2 = 3",
    "MessageProperty = 1 OR MessageProperty2 = 3",
    "DateTimeMp < @dtParam",
    "(DateTimeMp2-DateTimeMp1) <= @timespan",
    "DateTimeMp2-DateTimeMp1 <= @timespan",
    "source = @stringParam",
    "StoreId IN('Store1', 'Store2', 'Store3')",
    "sys.To IN ('Store5','Store6','Store7') OR StoreId = 'Store8'",
    "sys.To NOT IN ('Store1','Store2','Store3','Store4','Store5','Store6','Store7','Store8') OR "
    "StoreId NOT IN ('Store1','Store2','Store3','Store4','Store5','Store6','Store7','Store8')",
    "sys.ReplyTo = 'johndoe@contoso.com' AND sys.Label = 'Important' AND color = 'Red'",
    "1=1",
    "color='blue' AND quantity=10",
    "user.color='red'",
    "property LIKE 'ABC\\%' ESCAPE '\\'",
    # every documented constant, name and function form
    "a = 1894 OR a = 2 OR a = 1894.1204 OR a = 2.0 OR a = 101.5E5 OR a = 0.5E-2",
    "flag = TRUE OR flag = false OR other = NULL",
    "[Property With Space] = 1 AND [HR-EmployeeID] = 'E1' AND [a]]b] = 2",
    "\"Contoso & Northwind\" = 'x' AND \"say \"\"hi\"\"\" = 1",
    "sys.[Label] = 'x' AND user.\"my prop\" = 2",
    "sys.MessageId = newid() OR property('color') = 'red' OR p('col' + 'or') = 'red'",
    "EXISTS(sys.Label) AND EXISTS ( user.color ) AND NOT EXISTS([x y])",
    "color IS NULL OR size IS NOT NULL",
    "name NOT LIKE 'a_%' AND name LIKE @pattern ESCAPE '!'",
    "NOT color = 'red'",
    "NOT (a = 1 OR b = 2) AND NOT NOT c = 3",
    "quantity % 2 = 0 AND -amount < -5 AND +a > 1 AND (a + 1) * 2 >= 10 / b - 3",
    "a != 1 AND a <> 2 AND a >= 3 AND a <= 4 AND a < 5 AND a > 6",
    "surname = 'O''Brien' AND (amount > 100)",
    "color = 'red' and NOT size in (1, 2) or x is not null",
    # SDK samples and tests
    "(priority = 1 OR priority = 3) AND (sys.label LIKE '%String1')",
    "replicated IS NULL",
    "TargetAgent = 'SchedulingAgent' OR EventType LIKE '%Schedule%'",
    "Priority = 'High' AND Amount > 1000",
    "region = 'us-east'",
    "FilterTag = 'true'",
    # layout and Unicode
    "\n  eventType = 'payment.captured'\n  AND amount > 0\n",
    "città = 'Zürich' AND größe > 1 AND _private = 1",
]

DOCUMENTED_ACTIONS = [
    "SET source='routedOrders'",
    "SET quantity = quantity / 2; REMOVE priority;SET sys.CorrelationId = 'low';",
    "SET sys.Label = 'Important'",
    "SET sys.body = 'MessageX'",
    "SET replicated = 1",
    "SET priority = 'high'",
    "SET MessageCount = MessageCount + 1",
    "SET id = newid(); SET copy = property('source')",
    "REMOVE [my prop]",
    "remove user.color",
    "SET a = 1 SET b = 2",  # "Semicolon is optional"
    "SET a = 1, SET b = 2",  # "<statement> [, ...n]"
]


@pytest.mark.parametrize("text", DOCUMENTED_FILTERS)
def test_documented_filters_are_accepted(text):
    assert filter_problem(text) is None


@pytest.mark.parametrize("text", DOCUMENTED_ACTIONS)
def test_documented_actions_are_accepted(text):
    assert action_problem(text) is None


@pytest.mark.parametrize("text", [
    "IsUrgent",  # a bare value as a condition
    "TRUE",
    "NOT IsUrgent",
    "1 IS NULL",  # IS NULL on something other than a property
    "lower(sys.Label) = 'x'",  # an undocumented function
    "__count > 1",
    "user . color = 'x'",
    "n = 99999999999999999999999",  # beyond Int64
    "n = .5 OR n = 5. OR n = 1E5",
    "((((((((a = 1))))))))",
    "price BETWEEN 10 AND 20 AND sys.Label NOT BETWEEN 'a' AND 'm'",  # SQL-92 and JMS selectors have it
    "(" * (MAX_DEPTH + 1) + "a = = 1" + ")" * (MAX_DEPTH + 1),  # too deep to parse: only lexical checks run
])
def test_where_the_documentation_is_vague_filters_are_accepted(text):
    assert filter_problem(text) is None


@pytest.mark.parametrize("text", ["SET big = amount > 100", "; SET a = 1;;", "SET [a b] = (1 + 2) * 3"])
def test_where_the_documentation_is_vague_actions_are_accepted(text):
    assert action_problem(text) is None


@pytest.mark.parametrize(("text", "message"), [
    ("a = = 1", "expected a value after '=' at column 5, got '='"),
    ("a == 1", "expected a value after '=' at column 4, got '='"),
    ("price >", "expected a value after '>' at column 8, got end of text"),
    ("AND x = 1", "expected a condition at column 1, got 'AND'"),
    ("x = 1 AND", "expected a condition after 'AND' at column 10, got end of text"),
    ("NOT", "expected a condition after 'NOT' at column 4, got end of text"),
    ("sys.Label LIKE", "expected a pattern after 'LIKE' at column 15, got end of text"),
    ("a LIKE 'x!%' ESCAPE", "expected an escape character after 'ESCAPE' at column 20, got end of text"),
    ("color 'red'", "expected an operator after 'color' at column 7, got 'red'"),
    ("a = 1 b = 2", "expected AND or OR after '1' at column 7, got 'b'"),
    ("a = 1 = 2", "expected AND or OR after '1' at column 7, got '='"),
    ("a > = 1", "expected a value after '>' at column 5, got '='"),
    ("a BETWEEN 1", "expected AND after '1' at column 12, got end of text"),
    ("a NOT BETWEEN AND 5", "expected a value after 'BETWEEN' at column 15, got 'AND'"),
    ("x IS", "expected NULL or NOT NULL after 'IS' at column 5, got end of text"),
    ("x IS NOT 1", "expected NULL after 'NOT' at column 10, got '1'"),
    ("x NOT = 1", "expected IN, LIKE or BETWEEN after 'NOT' at column 7, got '='"),
    ("color IN 'red'", "expected '(' after 'IN' at column 10, got 'red'"),
    ("color IN ()", "expected a value after '(' at column 11, got ')'"),
    ("color IN ('red',)", "expected a value after ',' at column 17, got ')'"),
    ("color IN ('red' 'blue')", "expected ',' or ')' after 'red' at column 17, got 'blue'"),
    ("EXISTS color", "expected '(' after 'EXISTS' at column 8, got 'color'"),
    ("EXISTS('color')", "expected a property name after '(' at column 8, got 'color'"),
    ("(a b)", "expected an operator or ')' after 'a' at column 4, got 'b'"),
    ("(a = 1 b)", "expected AND, OR or ')' after '1' at column 8, got 'b'"),
    ("a = ()", "expected a value after '(' at column 6, got ')'"),
    ("a = NOT b", "expected a value after '=' at column 5, got 'NOT'"),
    ("a + * 2 = 1", "expected a value after '+' at column 5, got '*'"),
    ("newid(1) = 1", "newid() at column 1 takes no arguments, got 1"),
    ("x = property()", "property() at column 5 takes one argument (the property name), got 0"),
    ("x = P('a', 'b')", "P() at column 5 takes one argument (the property name), got 2"),
    ("order.total > 5",
     "unknown scope 'order' at column 1: only sys. and user. scope a property (write a name with a dot in [brackets])"),
    ("sys. = 1", "expected a property name after '.' at column 6, got '='"),
    ("a = 1 && b = 2", "unexpected character '&' at column 7"),
    ("a = @", "unexpected character '@' at column 5"),
    ("a = 'x' AND\n  b >", "expected a value after '>' at line 2, column 6, got end of text"),
    # the lexical checks brokerform always made keep their messages
    ("   ", "the SQL text is empty"),
    ("region = 'eu", "a string literal is not closed (a quote inside one is written '')"),
    ("color IN ('red'", "1 '(' not closed"),
    ("kind = 'refund') OR (kind = 'x'", "a ')' closes no '('"),
    ("[my prop = 1", "a [bracketed] name is not closed (a ] inside one is written ]])"),
    ('"my prop = 1', 'a "quoted" name is not closed (a " inside one is written "")'),
])
def test_malformed_filters_are_refused_with_the_column(text, message):
    assert filter_problem(text) == message


@pytest.mark.parametrize(("text", "message"), [
    ("SET", "expected a property name after 'SET' at column 4, got end of text"),
    ("SET a", "expected '=' after 'a' at column 6, got end of text"),
    ("SET a =", "expected a value after '=' at column 8, got end of text"),
    ("SET a = = 1", "expected a value after '=' at column 9, got '='"),
    ("SET a = 1 b", "expected an operator or ';' after '1' at column 11, got 'b'"),
    ("SET a = 1, b = 2", "expected SET or REMOVE after ',' at column 12, got 'b'"),
    ("SET 'a' = 1", "expected a property name after 'SET' at column 5, got 'a'"),
    ("SET AND = 1", "expected a property name after 'SET' at column 5, got 'AND'"),
    ("SET a = remove", "expected a value after '=' at column 9, got 'remove'"),
    ("REMOVE", "expected a property name after 'REMOVE' at column 7, got end of text"),
    ("REMOVE a = 1", "expected ';' after 'a' at column 10, got '='"),
    ("UPDATE a = 1", "expected SET or REMOVE at column 1, got 'UPDATE'"),
    ("a = 1", "expected SET or REMOVE at column 1, got 'a'"),
    (";", "the action has no SET or REMOVE statement"),
    ("SET sys.Label = 'big", "a string literal is not closed (a quote inside one is written '')"),
])
def test_malformed_actions_are_refused_with_the_column(text, message):
    assert action_problem(text) == message


def test_a_filter_and_an_action_are_different_languages():
    assert (filter_problem("SET a = 1"), action_problem("a = 1 AND b = 2")) == (
        "expected an operator after 'SET' at column 5, got 'a'", "expected SET or REMOVE at column 1, got 'a'")
    assert sql_problem("a = 1") is None and sql_problem("SET a = 1", action=True) is None


# -- every SQL text in the examples and the shared corpus is accepted --------------------------

def _manifest_sql(data, path=""):
    """(path, kind, text) for each filter and action in loaded manifest data."""
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}"
            if key == "sql" and isinstance(value, str):
                yield here, "filter", value
            elif key == "sql" and isinstance(value, dict):
                for field, kind in (("expression", "filter"), ("action", "action")):
                    if value.get(field):
                        yield f"{here}.{field}", kind, value[field]
            elif key == "correlation" and isinstance(value, dict) and value.get("action"):
                yield f"{here}.action", "action", value["action"]
            else:
                yield from _manifest_sql(value, here)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _manifest_sql(value, f"{path}[{index}]")


def _arm_sql(data, parent=""):
    """(kind, text) for each sqlExpression in an ARM template: under sqlFilter or under action."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "sqlExpression" and isinstance(value, str):
                yield ("action" if parent == "action" else "filter"), value
            else:
                yield from _arm_sql(value, key)
    elif isinstance(data, list):
        for value in data:
            yield from _arm_sql(value, parent)


def _bicep_sql(text):
    """(kind, text) for each sqlExpression in a Bicep file, the kind read from the enclosing block."""
    for match in re.finditer(r"sqlExpression:\s*'((?:[^'\\]|\\.)*)'", text):
        before = text[:match.start()]
        kind = "action" if before.rfind("action:") > before.rfind("sqlFilter:") else "filter"
        yield kind, re.sub(r"\\(.)", r"\1", match.group(1))


def _check(kind, text):
    return action_problem(text) if kind == "action" else filter_problem(text)


def test_every_sql_text_in_the_examples_is_accepted():
    found = [(folder.name, *entry) for folder in sorted((ROOT / "examples").iterdir()) if folder.is_dir()
             for entry in _manifest_sql(load_raw(folder)[0])]
    assert {kind for *_, kind, _text in found} == {"filter", "action"}
    assert [(f, p, t, _check(k, t)) for f, p, k, t in found if _check(k, t)] == []


def test_every_sql_text_in_the_shared_corpus_is_accepted(corpus):
    found = []
    for path in sorted((corpus / "servicebus").iterdir()):
        if path.suffix == ".json":
            found += [(path.name, *entry) for entry in _arm_sql(json.loads(path.read_text(encoding="utf-8")))]
        elif path.suffix == ".bicep":
            found += [(path.name, *entry) for entry in _bicep_sql(path.read_text(encoding="utf-8"))]
    assert found, "the corpus should hold at least one SQL rule"
    assert [(name, text, _check(kind, text)) for name, kind, text in found if _check(kind, text)] == []


# -- validate locates the problem in the manifest ----------------------------------------------

def test_validate_locates_sql_problems_at_file_line_and_field(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text(
        "brokerform: 1\n"
        "targets:\n"
        "  payments:\n"
        "    type: azure-servicebus\n"
        "    subscription_id: 00000000-0000-0000-0000-000000000000\n"
        "    resource_group: payments\n"
        "    namespace: sb-payments\n"
        "    topics:\n"
        "      invoices:\n"
        "        subscriptions:\n"
        "          audit:\n"
        "            rules:\n"
        "              ok: {sql: {expression: \"amount > 10\", action: \"SET sys.Label = 'big'\"}}\n"
        "              big: {sql: {expression: \"amount > = 1000\", action: \"SET\"}}\n"
        "              tagged: {correlation: {label: x, action: \"REMOVE priority high\"}}\n"
        "channels:\n"
        "  payments.events:\n"
        "    target: payments\n"
        "    pattern: pubsub\n"
        "    subscriptions:\n"
        "      refunds: {filter: {sql: \"kind IN ('refund' 'chargeback')\"}}\n"
    )
    result = CliRunner().invoke(main, ["validate", "bad.yaml"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    rules = "targets.payments.topics.invoices.subscriptions.audit.rules"
    assert result.stderr.splitlines() == [
        f"bad.yaml:14:39: {rules}.big.sql.expression: expected a value after '>' at column 10, got '='",
        f"bad.yaml:14:66: {rules}.big.sql.action: expected a property name after 'SET' at column 4, got end of text",
        f"bad.yaml:15:56: {rules}.tagged.correlation.action: expected ';' after 'priority' at column 17, got 'high'",
        "bad.yaml:21:31: channels.\"payments.events\".subscriptions.refunds.filter.sql: "
        "expected ',' or ')' after 'refund' at column 19, got 'chargeback'",
        "error: 4 problem(s) found",
    ]


# -- robustness ----------------------------------------------------------------------------------

SQL_PIECES = ["a", "sys", "user", ".", "=", "<>", "!", "(", ")", ",", ";", "'", "''", '"', "[", "]", "@p", "1", "2.5E-3",
              " ", "\n", "AND", "OR", "NOT", "IS", "NULL", "IN", "LIKE", "ESCAPE", "EXISTS", "SET", "REMOVE", "newid",
              "p", "+", "-", "*", "/", "%", "#", "é"]


@given(st.lists(st.sampled_from(SQL_PIECES), max_size=30).map("".join))
@settings(max_examples=400, deadline=None)
def test_any_text_gets_an_answer_never_an_exception(text):
    for check in (filter_problem, action_problem):
        problem = check(text)
        assert problem is None or (isinstance(problem, str) and problem)
