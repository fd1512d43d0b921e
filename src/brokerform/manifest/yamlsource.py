"""YAML parsing that keeps a source position for every key and value.

PyYAML composes node trees with marks; we walk them ourselves so that:
- every value and key gets a (file, line, column) for error messages and lint;
- duplicate keys are errors naming both lines;
- booleans are only true/false (no YAML 1.1 `on`/`no` surprises), and `1:30` stays a string;
- alias expansion is capped, so a billion-laughs file is refused at once.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable

import yaml

from brokerform.errors import Location, Problem
from brokerform.gcpause import paused_gc

MAX_ALIAS_EXPANSIONS = 10_000
MAX_DEPTH = 128  # manifests nest about 8 levels; the walks below recurse once per level

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader with a YAML 1.2-like core schema; the C parser calls `resolve` for every node."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        # One cache per document: keys and most values repeat (`type`, `classic`, `1d`), and a
        # cache hit answers the C parser without running Python code.
        self.resolve = functools.lru_cache(maxsize=None)(_resolve)  # type: ignore[method-assign]
        self.descend_resolver, self.ascend_resolver = _depth_guard()  # type: ignore[method-assign]


def _depth_guard() -> tuple[Callable[[Any, Any], None], Callable[[], None]]:
    """The composer's hooks before and after each node, capping nesting: it recurses in C, and
    tens of thousands of nested brackets would overflow the process's stack.

    Plain functions over a closure cell, not methods: the C parser calls them twice for every
    node, and an attribute update on the loader cost a sixth of the parse."""
    depth = 0

    def descend(current_node: Any, current_index: Any) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_DEPTH:
            raise yaml.MarkedYAMLError(problem=f"collections nested more than {MAX_DEPTH} levels deep",
                                       problem_mark=getattr(current_node, "start_mark", None))

    def ascend() -> None:
        nonlocal depth
        depth -= 1

    return descend, ascend


_StrictLoader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|0o[0-7_]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+0123456789."),
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"]),
):
    _StrictLoader.add_implicit_resolver(_tag, re.compile(_regexp), _first)
_IMPLICIT = _StrictLoader.yaml_implicit_resolvers


def _resolve(kind: Any, value: Any, implicit: Any) -> str:
    """The tag of an untagged node; PyYAML's generic resolver also handles path resolvers, which
    this loader never has."""
    if kind is yaml.ScalarNode:
        if implicit[0]:
            for tag, regexp in _IMPLICIT.get(value[:1], ()):
                if regexp.match(value):
                    return tag
        return "tag:yaml.org,2002:str"
    return "tag:yaml.org,2002:seq" if kind is yaml.SequenceNode else "tag:yaml.org,2002:map"


_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:null",
}


class SourceMap:
    """Where each value (by field path) and each mapping key came from.

    A map can be deferred: built on first use. Recording a position for every node costs about
    as much as parsing, and a clean plan never looks one up; errors, lint and reports do."""

    __slots__ = ("_values", "_keys", "_build")

    def __init__(self, values: dict[tuple, Location] | None = None, keys: dict[tuple, Location] | None = None):
        self._values: dict[tuple, Location] | None = {} if values is None else values
        self._keys: dict[tuple, Location] | None = {} if keys is None else keys
        self._build: Callable[[], SourceMap] | None = None

    @classmethod
    def deferred(cls, build: Callable[[], "SourceMap"]) -> "SourceMap":
        source = cls()
        source._values = source._keys = None
        source._build = build
        return source

    @property
    def values(self) -> dict[tuple, Location]:
        if self._values is None:
            self._materialise()
        return self._values  # type: ignore[return-value]

    @property
    def keys(self) -> dict[tuple, Location]:
        if self._keys is None:
            self._materialise()
        return self._keys  # type: ignore[return-value]

    def _materialise(self) -> None:
        with paused_gc():  # a second parse, often long after loading: same reason as the first
            built = self._build() if self._build is not None else SourceMap()
        self._values, self._keys, self._build = built.values, built.keys, None

    def update(self, other: "SourceMap", prefix: tuple = ()) -> None:
        for path, loc in other.values.items():
            self.values[prefix + path] = loc
        for path, loc in other.keys.items():
            self.keys[prefix + path] = loc

    def drop(self, prefix: tuple) -> None:
        n = len(prefix)
        for table in (self.values, self.keys):
            for path in [p for p in table if p[:n] == prefix]:
                del table[path]

    def locate(self, path: tuple | list, *, key: bool = False, default: Location | None = None) -> Location:
        """The closest known location of a path: the path itself, else its nearest parent."""
        path = tuple(path)
        primary, secondary = (self.keys, self.values) if key else (self.values, self.keys)
        for end in range(len(path), -1, -1):
            sub = path[:end]
            if sub in primary:
                return primary[sub]
            if sub in secondary:
                return secondary[sub]
        return default or Location("<manifest>")


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _loc(filename: str, mark: Any) -> Location:
    return Location(filename, mark.line + 1, mark.column + 1)


_new_location = tuple.__new__
_STR = "tag:yaml.org,2002:str"


class _Walker:
    def __init__(self, filename: str, loader: Any):
        self.filename = filename
        self.loader = loader
        self.source = SourceMap()
        self.problems: list[Problem] = []
        self.seen: set[int] = set()
        self.active: set[int] = set()  # the collections being walked: an alias to one is a cycle
        self.expansions = 0

    def walk(self, node: yaml.Node, path: tuple) -> Any:
        mark = node.start_mark
        self.source.values[path] = _new_location(Location, (self.filename, mark.line + 1, mark.column + 1))
        if type(node) is yaml.ScalarNode:
            return node.value if node.tag == _STR else self._scalar(node, path)
        if id(node) in self.seen:  # an alias of a collection: count expansions (scalars cannot explode)
            self.expansions += 1
            if self.expansions > MAX_ALIAS_EXPANSIONS:
                raise YamlProblems([
                    Problem(
                        _loc(self.filename, node.start_mark),
                        f"too many alias expansions (more than {MAX_ALIAS_EXPANSIONS}); "
                        "refusing a possible alias bomb",
                    )
                ])
        if id(node) in self.active:
            raise YamlProblems([Problem(_loc(self.filename, node.start_mark),
                                        "an alias refers to the anchor that contains it (a cycle); "
                                        "a manifest is a tree: copy the values instead")])
        self.seen.add(id(node))
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [self.walk(child, path + (i,)) for i, child in enumerate(node.value)]
        finally:
            self.active.discard(id(node))
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _scalar(self, node: yaml.ScalarNode, path: tuple) -> Any:
        tag = node.tag
        if tag == "tag:yaml.org,2002:str":  # fast paths: most scalars in a big manifest
            return node.value
        if tag == "tag:yaml.org,2002:int" and node.value.isdigit():
            return int(node.value)
        if tag == "tag:yaml.org,2002:bool":
            return node.value.lower() == "true"
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag not in _SCALAR_TAGS:
            self.problems.append(
                Problem(_loc(self.filename, node.start_mark), f"unsupported YAML tag {node.tag}", _fmt(path))
            )
            return node.value
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.problems.append(Problem(_loc(self.filename, node.start_mark), str(exc).splitlines()[0], _fmt(path)))
            return node.value

    def _mapping(self, node: yaml.MappingNode, path: tuple) -> dict:
        if node.tag != "tag:yaml.org,2002:map":
            self.problems.append(
                Problem(_loc(self.filename, node.start_mark), f"unsupported YAML tag {node.tag}", _fmt(path))
            )
        result: dict = {}
        first_seen: dict[Any, Location] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._merge_into(result, value_node, path)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    Problem(_loc(self.filename, key_node.start_mark), "mapping keys must be plain scalars", _fmt(path))
                )
                continue
            key = key_node.value if key_node.tag == _STR else self._scalar(key_node, path)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                key = key_node.value
            mark = key_node.start_mark
            key_loc = _new_location(Location, (self.filename, mark.line + 1, mark.column + 1))
            if key in first_seen:
                self.problems.append(
                    Problem(key_loc, f"duplicate key {key!r} (first defined at line {first_seen[key].line})", _fmt(path))
                )
                continue
            first_seen[key] = key_loc
            here = path + (key,)
            self.source.keys[here] = key_loc
            if type(value_node) is yaml.ScalarNode and value_node.tag == _STR:  # inline: most values
                mark = value_node.start_mark
                self.source.values[here] = _new_location(Location, (self.filename, mark.line + 1, mark.column + 1))
                result[key] = value_node.value
            else:
                result[key] = self.walk(value_node, here)
        return result

    def _merge_into(self, result: dict, value_node: yaml.Node, path: tuple) -> None:
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.problems.append(
                    Problem(_loc(self.filename, source.start_mark), "a << merge takes a mapping", _fmt(path))
                )
                continue
            for key, value in self._mapping(source, path).items():
                result.setdefault(key, value)


class _Unusual(Exception):
    """Raised by the plain walk for anything it leaves to the located walk."""


_MAP = "tag:yaml.org,2002:map"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


def _plain(node: yaml.Node, seen: set[int]) -> Any:
    """The data of a node tree without positions, for the common subset of YAML: plain
    mappings with string keys, sequences, strings, decimal integers, booleans and nulls.
    Tags, merge keys, aliases, odd keys and duplicates raise _Unusual, so the located walk,
    which reports or handles them, gives the answer. Both walks agree on everything else."""
    kind = type(node)
    if kind is yaml.ScalarNode:
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == _INT and node.value.isdigit():
            return int(node.value)
        if tag == _BOOL:
            return node.value.lower() == "true"
        if tag == _NULL:
            return None
        raise _Unusual
    if id(node) in seen:
        raise _Unusual
    seen.add(id(node))
    if kind is yaml.SequenceNode:
        return [_plain(child, seen) for child in node.value]
    if kind is not yaml.MappingNode or node.tag != _MAP:
        raise _Unusual
    result: dict = {}
    for key_node, value_node in node.value:
        if type(key_node) is not yaml.ScalarNode or key_node.tag != _STR or key_node.value in result:
            raise _Unusual
        if type(value_node) is yaml.ScalarNode and value_node.tag == _STR:  # inline: most values
            result[key_node.value] = value_node.value
        else:
            result[key_node.value] = _plain(value_node, seen)
    return result


def _fmt(path: tuple) -> str:
    from brokerform.errors import format_path

    return format_path(path)


def parse_yaml(text: str, filename: str, *, positions: bool = False) -> tuple[Any, SourceMap]:
    """Parse one YAML document into Python data and its source map; raise YamlProblems.

    Unless `positions` asks for them at once (lint, reports: they point at most declarations),
    the source map of a plain document (see `_plain`) is deferred: positions are recorded by
    parsing the text again, only if something asks for one."""
    node, loader = _compose(text, filename)
    if node is None:
        return None, SourceMap()
    if not positions:
        try:
            return _plain(node, set()), SourceMap.deferred(lambda: _located(text, filename)[1])
        except _Unusual:
            pass
    walker = _Walker(filename, loader)
    data = walker.walk(node, ())
    if walker.problems:
        raise YamlProblems(walker.problems)
    return data, walker.source


def _located(text: str, filename: str) -> tuple[Any, SourceMap]:
    node, loader = _compose(text, filename)
    if node is None:
        return None, SourceMap()
    walker = _Walker(filename, loader)
    return walker.walk(node, ()), walker.source


def _compose(text: str, filename: str) -> tuple[yaml.Node | None, Any]:
    if "\x00" in text:
        raise YamlProblems([Problem(Location(filename, 1, 1), "not a text file (contains NUL bytes)")])
    loader = _StrictLoader(text)
    try:
        return loader.get_single_node(), loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _loc(filename, mark) if mark else Location(filename, 1, 1)
        message = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        if "\t" in text and "tab" in message.lower() or (mark and _tab_at(text, mark)):
            message = "tabs are not allowed for indentation in YAML; use spaces"
        raise YamlProblems([Problem(loc, message)]) from None
    except yaml.YAMLError as exc:
        raise YamlProblems([Problem(Location(filename, 1, 1), str(exc).splitlines()[0])]) from None
    finally:
        try:
            loader.dispose()
        except Exception:  # noqa: BLE001 - disposal never matters to the user
            pass


def _tab_at(text: str, mark: Any) -> bool:
    lines = text.splitlines()
    if 0 <= mark.line < len(lines):
        line = lines[mark.line]
        return "\t" in line[: max(mark.column, 1) + 1] or line.lstrip(" ").startswith("\t")
    return False
