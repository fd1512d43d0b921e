"""A syntax check for Azure Service Bus SQL filters and rule actions.

Azure refuses a malformed filter or action only when `apply` creates the rule, half-way through
a change set. This recognizer follows Microsoft's documented grammar ("Subscription Rule SQL
Filter Syntax" and "SQL Action Syntax") so that `validate` and `plan` refuse the same text with
its column instead. It only recognizes; it builds no tree and never evaluates anything.

Where the documentation is vague the checker accepts, because a false refusal blocks a user who
has no way around it while a missed error is still caught by Azure:

- any expression may stand as a condition (`IsUrgent`, `TRUE`), and a SET value may be a
  condition (`SET big = amount > 100`);
- `IS [NOT] NULL` takes any expression on its left, not only a property;
- functions other than newid(), property(name) and p(name) are accepted with any arguments
  (only the arity of those three is checked);
- regular names may start with `_`; `@name` parameters are values; big integers are not
  range-checked; the scope dot may have spaces around it;
- `[NOT] BETWEEN low AND high` is accepted (SQL-92 and JMS selectors have it; the page does not);
- action statements may be separated by `;`, `,` or nothing, and stray separators are ignored;
- text nesting parentheses deeper than MAX_DEPTH is not parsed (only its lexical checks run),
  so the recursion stays far from Python's limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

MAX_DEPTH = 50
"""Deeper nesting is accepted unparsed: the descent uses about eight frames a level."""

FILTER_KEYWORDS = frozenset({"AND", "OR", "NOT", "IS", "NULL", "IN", "LIKE", "ESCAPE", "EXISTS", "TRUE", "FALSE",
                             "BETWEEN"})
ACTION_KEYWORDS = FILTER_KEYWORDS | {"SET", "REMOVE"}
COMPARISONS = ("=", "<>", "!=", ">", ">=", "<", "<=")
# Arity of the documented functions; any other name( ... ) is accepted as written.
FUNCTION_ARITY = {"NEWID": (0, "no arguments"), "PROPERTY": (1, "one argument (the property name)"),
                  "P": (1, "one argument (the property name)")}
_TWO_CHAR_OPS = ("<>", "!=", ">=", "<=")
_ONE_CHAR_OPS = "=<>+-*/%(),.;"
_LITERAL_OPENERS = {
    "'": ("string", "a string literal is not closed (a quote inside one is written '')"),
    '"': ("name", 'a "quoted" name is not closed (a " inside one is written "")'),
    "[": ("name", "a [bracketed] name is not closed (a ] inside one is written ]])"),
}


@dataclass(frozen=True)
class Token:
    """One lexical unit: kind is word, number, string, name, param, op, bad or end."""

    kind: str
    text: str
    start: int


class _Refused(Exception):
    """Raised inside the recognizer to unwind with the message for the user."""


def filter_problem(text: str) -> str | None:
    """Why Service Bus would refuse `text` as a SQL filter, or None if the grammar accepts it."""
    return _problem(text, action=False)


def action_problem(text: str) -> str | None:
    """Why Service Bus would refuse `text` as a SQL rule action, or None if the grammar accepts it."""
    return _problem(text, action=True)


def _problem(text: str, action: bool) -> str | None:
    """The lexical checks come first, with the messages brokerform always gave for them."""
    if not text.strip():
        return "the SQL text is empty"
    tokens, problem, depth = tokenize(text)
    if problem or depth > MAX_DEPTH:  # too deep to descend safely: accepted after the lexical checks
        return problem
    parser = _Parser(text, tokens, ACTION_KEYWORDS if action else FILTER_KEYWORDS)
    try:
        parser.statements() if action else parser.filter()
    except _Refused as refusal:
        return str(refusal)
    return None


def tokenize(text: str) -> tuple[list[Token], str | None, int]:
    """Tokens, the first lexical problem (open literal, unbalanced parentheses), and the deepest
    nesting. A character the grammar has no use for becomes a `bad` token for the parser to report
    in place, so lexical problems later in the text still win as they always did."""
    tokens: list[Token] = []
    depth = deepest = 0
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        if char in _LITERAL_OPENERS:
            kind, unclosed = _LITERAL_OPENERS[char]
            end = _literal_end(text, pos, "]" if char == "[" else char)
            if end < 0:
                return tokens, unclosed, deepest
            tokens.append(Token(kind, text[pos:end], pos))
            pos = end
            continue
        end = _number_end(text, pos) or _word_end(text, pos)
        if end:
            kind = "number" if char.isdecimal() or char == "." else "word"
            tokens.append(Token(kind, text[pos:end], pos))
        elif char == "@" and (end := _word_end(text, pos + 1)):
            tokens.append(Token("param", text[pos:end], pos))
        elif text.startswith(_TWO_CHAR_OPS, pos):
            end = pos + 2
            tokens.append(Token("op", text[pos:end], pos))
        elif char in _ONE_CHAR_OPS:
            end = pos + 1
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth < 0:
                return tokens, "a ')' closes no '('", deepest
            deepest = max(deepest, depth)
            tokens.append(Token("op", char, pos))
        else:
            end = pos + 1
            tokens.append(Token("bad", char, pos))
        pos = end
    tokens.append(Token("end", "", len(text)))
    return tokens, (f"{depth} '(' not closed" if depth else None), deepest


def _literal_end(text: str, start: int, close: str) -> int:
    """Index after a literal opened at `start`, where a doubled `close` is an escaped one; -1 if open."""
    pos = start + 1
    while True:
        pos = text.find(close, pos)
        if pos < 0:
            return -1
        if text.startswith(close * 2, pos):
            pos += 2
            continue
        return pos + 1


def _number_end(text: str, start: int) -> int:
    """Index after a number (1894, 2.0, .5, 101.5E5, 0.5E-2) starting at `start`, or 0."""
    pos = start
    while pos < len(text) and text[pos].isdecimal():
        pos += 1
    if pos < len(text) and text[pos] == ".":
        after = pos + 1
        while after < len(text) and text[after].isdecimal():
            after += 1
        if after > pos + 1 or pos > start:  # a lone '.' is the scope separator
            pos = after
    if pos == start:
        return 0
    if pos < len(text) and text[pos] in "eE":
        digits = pos + 2 if text[pos + 1:pos + 2] in ("+", "-") else pos + 1
        if digits < len(text) and text[digits].isdecimal():
            pos = digits
            while pos < len(text) and text[pos].isdecimal():
                pos += 1
    return pos


def _word_end(text: str, start: int) -> int:
    """Index after a regular name (a letter or `_`, then letters, digits, `_`), or 0."""
    if start >= len(text) or not (text[start].isalpha() or text[start] == "_"):
        return 0
    pos = start + 1
    while pos < len(text) and (text[pos].isalnum() or text[pos] == "_"):
        pos += 1
    return pos


class _Parser:
    """Recursive descent over the tokens; each method consumes one construct or raises _Refused."""

    def __init__(self, text: str, tokens: list[Token], keywords: frozenset[str]):
        self.text = text
        self.tokens = tokens
        self.keywords = keywords
        self.pos = 0
        self.bare = False  # whether the last condition was a value with no operator after it

    # -- token helpers -------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def next_is(self, op: str) -> bool:
        """Whether the token after the current one is the operator `op`."""
        following = self.tokens[min(self.pos + 1, len(self.tokens) - 1)]
        return following.kind == "op" and following.text == op

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.upper() in words

    def at_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def expect_op(self, op: str, expected: str) -> None:
        if not self.at_op(op):
            self.fail(expected)
        self.advance()

    def where(self, offset: int) -> str:
        """`column N`, or `line L, column N` when the SQL text spans lines."""
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return f"line {line}, column {column}" if "\n" in self.text else f"column {column}"

    def fail(self, expected: str) -> NoReturn:
        """Refuse at the current token: `expected X after 'Y' at column N, got Z`."""
        token = self.tok
        if token.kind == "bad":
            raise _Refused(f"unexpected character {token.text!r} at {self.where(token.start)}")
        after = f" after {_show(self.tokens[self.pos - 1])}" if self.pos else ""
        raise _Refused(f"expected {expected}{after} at {self.where(token.start)}, got {_show(token)}")

    # -- statements ----------------------------------------------------------------------------

    def filter(self) -> None:
        """A whole filter: one condition, then nothing."""
        self.condition("a condition")
        if self.tok.kind != "end":
            self.fail("an operator" if self.bare else "AND or OR")

    def statements(self) -> None:
        """A whole action: SET property = value and REMOVE property, at least one of them."""
        count = 0
        while True:
            while self.at_op(";", ","):
                self.advance()
            if self.tok.kind == "end":
                break
            if self.at_word("SET"):
                self.advance()
                self.property_ref("a property name")
                self.expect_op("=", "'='")
                self.condition("a value")
                trailing = "an operator or ';'" if self.bare else "';'"
            elif self.at_word("REMOVE"):
                self.advance()
                self.property_ref("a property name")
                trailing = "';'"
            else:
                self.fail("SET or REMOVE")
            count += 1
            if not (self.tok.kind == "end" or self.at_op(";", ",") or self.at_word("SET", "REMOVE")):
                self.fail(trailing)
        if not count:
            raise _Refused("the action has no SET or REMOVE statement")

    # -- conditions ----------------------------------------------------------------------------

    def condition(self, what: str) -> None:
        """`a OR b`: OR binds loosest."""
        self.conjunction(what)
        while self.at_word("OR"):
            self.advance()
            self.conjunction("a condition")

    def conjunction(self, what: str) -> None:
        self.negation(what)
        while self.at_word("AND"):
            self.advance()
            self.negation("a condition")

    def negation(self, what: str) -> None:
        """`NOT ...` (any number of them) and `EXISTS ( property )`."""
        while self.at_word("NOT"):
            self.advance()
            what = "a condition"
        if self.at_word("EXISTS"):
            self.advance()
            self.expect_op("(", "'('")
            self.property_ref("a property name")
            self.expect_op(")", "')'")
            self.bare = False
            return
        self.comparison(what)

    def comparison(self, what: str) -> None:
        """A value, optionally followed by a comparison, IS [NOT] NULL, [NOT] IN or [NOT] LIKE."""
        self.addition(what)
        self.bare = False
        if self.at_op(*COMPARISONS):
            self.advance()
            self.addition("a value")
        elif self.at_word("IS"):
            self.advance()
            if self.at_word("NOT"):
                self.advance()
                if not self.at_word("NULL"):
                    self.fail("NULL")
            elif not self.at_word("NULL"):
                self.fail("NULL or NOT NULL")
            self.advance()
        elif self.at_word("NOT", "IN", "LIKE", "BETWEEN"):
            if self.at_word("NOT"):
                self.advance()
                if not self.at_word("IN", "LIKE", "BETWEEN"):
                    self.fail("IN, LIKE or BETWEEN")
            keyword = self.advance().text.upper()
            if keyword == "IN":
                self.in_list()
            elif keyword == "BETWEEN":
                self.range_bounds()
            else:
                self.addition("a pattern")
                if self.at_word("ESCAPE"):
                    self.advance()
                    self.addition("an escape character")
        else:
            self.bare = True

    def range_bounds(self) -> None:
        """`low AND high` after BETWEEN: not in the documented grammar, but SQL-92 and JMS selectors
        (which Premium namespaces accept) have it, so it is accepted rather than refused."""
        self.addition("a value")
        if not self.at_word("AND"):
            self.fail("AND")
        self.advance()
        self.addition("a value")

    def in_list(self) -> None:
        """`( value [, value ...] )` after IN; the list is never empty."""
        self.expect_op("(", "'('")
        self.addition("a value")
        while self.at_op(","):
            self.advance()
            self.addition("a value")
        self.expect_op(")", "',' or ')'")

    # -- values --------------------------------------------------------------------------------

    def addition(self, what: str) -> None:
        self.multiplication(what)
        while self.at_op("+", "-"):
            self.advance()
            self.multiplication("a value")

    def multiplication(self, what: str) -> None:
        self.unary(what)
        while self.at_op("*", "/", "%"):
            self.advance()
            self.unary("a value")

    def unary(self, what: str) -> None:
        while self.at_op("+", "-"):
            self.advance()
            what = "a value"
        self.primary(what)

    def primary(self, what: str) -> None:
        """A constant, parameter, function call, property or parenthesized condition."""
        token = self.tok
        if token.kind in ("number", "string", "param"):
            self.advance()
        elif token.kind == "word" and token.text.upper() in ("TRUE", "FALSE", "NULL"):
            self.advance()
        elif token.kind == "word" and token.text.upper() not in self.keywords and self.next_is("("):
            self.function()
        elif token.kind in ("word", "name"):
            self.property_ref(what)
        elif self.at_op("("):
            self.advance()
            self.condition(what)
            if not self.at_op(")"):
                self.fail("an operator or ')'" if self.bare else "AND, OR or ')'")
            self.advance()
            self.bare = False
        else:
            self.fail(what)

    def function(self) -> None:
        """`name( [value [, value ...]] )`, with the arity of newid, property and p checked."""
        name = self.advance()
        self.advance()  # the '('
        count = 0
        if not self.at_op(")"):
            self.addition("a value")
            count = 1
            while self.at_op(","):
                self.advance()
                self.addition("a value")
                count += 1
        self.expect_op(")", "',' or ')'")
        arity = FUNCTION_ARITY.get(name.text.upper())
        if arity and arity[0] != count:
            raise _Refused(f"{name.text}() at {self.where(name.start)} takes {arity[1]}, got {count}")

    def property_ref(self, what: str) -> None:
        """`name`, `[name]`, `"name"`, or one of those after the scope `sys.` or `user.`."""
        token = self.tok
        if token.kind not in ("word", "name") or (token.kind == "word" and token.text.upper() in self.keywords):
            self.fail(what)
        if token.kind == "word" and self.next_is("."):
            if token.text.upper() not in ("SYS", "USER"):
                raise _Refused(f"unknown scope {token.text!r} at {self.where(token.start)}: only sys. and user. "
                               "scope a property (write a name with a dot in [brackets])")
            self.advance()
            self.advance()  # the '.'
            if self.tok.kind not in ("word", "name"):
                self.fail("a property name")
        self.advance()


def _show(token: Token) -> str:
    """How a token is quoted in a message: as written, shortened; strings keep their own quotes."""
    if token.kind == "end":
        return "end of text"
    text = token.text if len(token.text) <= 30 else token.text[:27] + "..."
    return text if token.kind in ("string", "name") else f"'{text}'"
