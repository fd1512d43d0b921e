"""Turn pydantic errors into located problems, and check cross-references between resources."""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from brokerform.errors import ManifestError, Problem, format_path
from brokerform.manifest.merge import deep_get
from brokerform.manifest.yamlsource import SourceMap


def validate_model(data: dict, source: SourceMap, base_dir: Path):
    from brokerform.model import Manifest

    try:
        return Manifest.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ManifestError([problem_from_error(err, data, source) for err in exc.errors()]) from None


def _data_path(loc: tuple, data: Any) -> tuple:
    """Drop the parts of a pydantic location that are not in the data (union tags, validators)."""
    path: list = []
    current = data
    for element in loc:
        if isinstance(current, dict) and element in current:
            path.append(element)
            current = current[element]
        elif isinstance(current, list) and isinstance(element, int) and 0 <= element < len(current):
            path.append(element)
            current = current[element]
        elif isinstance(current, dict) and isinstance(element, str) and element not in current and _is_field_slot(element):
            path.append(element)
            current = None
    return tuple(path)


def _is_field_slot(element: str) -> bool:
    # pydantic reports missing fields by name; union tags and "function-after[...]" are not fields.
    return "[" not in element and element not in {"rabbitmq", "kafka", "azure-servicebus", "aws"}


def problem_from_error(error: Any, data: dict, source: SourceMap) -> Problem:
    loc = tuple(error.get("loc", ()))
    path = _data_path(loc, data)
    kind = error.get("type", "")
    message = error.get("msg", "invalid value")
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    elif message.startswith("Assertion failed, "):
        message = message[len("Assertion failed, "):]
    if kind == "extra_forbidden":
        message = unknown_field_message(str(loc[-1]), _allowed_keys(loc[:-1], data))
        return Problem(source.locate(path, key=True), message, format_path(path))
    if kind == "missing":
        message = "required field is missing"
        return Problem(source.locate(path[:-1], key=True), message, format_path(path))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        from brokerform.model import TARGET_TYPES

        got = deep_get(data, path + ("type",)) if kind == "union_tag_invalid" else None
        message = f"type must be one of {', '.join(TARGET_TYPES)}" + (f", got {got!r}" if got is not None else "")
        return Problem(source.locate(path + ("type",)), message, format_path(path + ("type",)))
    if kind in ("literal_error", "enum"):
        got = deep_get(data, path)
        allowed = re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", "")))
        if allowed:
            message = f"expected one of {', '.join(allowed)}, got {got!r}"
            close = difflib.get_close_matches(str(got), allowed, n=1, cutoff=0.6) if isinstance(got, str) else []
            if close:
                message += f"; did you mean {close[0]!r}?"
        elif (error.get("ctx") or {}).get("expected") is not None:
            message = f"expected {error['ctx']['expected']}, got {got!r}"
        else:
            message = f"{message}, got {got!r}"
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {described(deep_get(data, path))}"
    elif kind in _BOUNDS:
        ctx = error.get("ctx") or {}
        operator, key = _BOUNDS[kind]
        message = f"expected a value {operator} {ctx.get(key)}, got {described(deep_get(data, path))}"
    return Problem(source.locate(path), message, format_path(path))


# pydantic's wording ("Input should be a valid dictionary or instance of RabbitQueue") in YAML terms
_EXPECTED = {
    "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
    "list_type": "a list", "string_type": "a string", "int_type": "an integer", "int_parsing": "an integer",
    "int_from_float": "an integer", "bool_type": "true or false", "bool_parsing": "true or false",
    "float_type": "a number", "float_parsing": "a number",
}


_BOUNDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("<=", "le"),
           "less_than": ("<", "lt")}


def unknown_field_message(unknown: str, allowed: list[str]) -> str:
    """`unknown field 'x'; did you mean 'y'?`, else the fields that are allowed there."""
    message = f"unknown field {unknown!r}"
    suggestion = difflib.get_close_matches(unknown, allowed, n=1, cutoff=0.6)
    if suggestion:
        return message + f"; did you mean {suggestion[0]!r}?"
    if allowed:
        return message + f"; expected one of: {', '.join(sorted(allowed))}"
    return message


def described(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unwrap(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def _allowed_keys(loc: tuple, data: dict) -> list[str]:
    """Field names of the model at a pydantic location, for did-you-mean suggestions."""
    from brokerform.model import Manifest

    candidates: list[Any] = [Manifest]
    for element in loc:
        following: list[Any] = []
        for candidate in candidates:
            for typ in _unwrap(candidate):
                if isinstance(typ, type) and issubclass(typ, BaseModel):
                    field = typ.model_fields.get(element) if isinstance(element, str) else None
                    if field is None and isinstance(element, str):
                        field = next((f for f in typ.model_fields.values() if f.alias == element), None)
                    if field is not None:
                        following.append(field.annotation)
                    elif isinstance(element, str) and "type" in typ.model_fields:
                        tag = get_args(_unwrap(typ.model_fields["type"].annotation)[0])
                        if element in tag:
                            following.append(typ)
                elif get_origin(typ) is dict:
                    following.append(get_args(typ)[1])
                elif get_origin(typ) is list:
                    following.append(get_args(typ)[0])
        candidates = following
    keys: set[str] = set()
    for candidate in candidates:
        for typ in _unwrap(candidate):
            if isinstance(typ, type) and issubclass(typ, BaseModel):
                for name, field in typ.model_fields.items():
                    keys.add(field.alias or name)
    return sorted(keys)


def check_references(loaded) -> list[Problem]:
    """Dangling references, properties the chosen broker cannot express, missing schema files."""
    from brokerform.manifest.references import find_reference_problems

    return [
        Problem(loaded.locate(path, key=key), message, format_path(path))
        for path, message, key in find_reference_problems(loaded.manifest, loaded.base_dir)
    ]
