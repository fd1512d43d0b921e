"""Generate docs/manifest-reference.md from the models, so the reference never drifts.

Run `python -m brokerform.model.reference > docs/manifest-reference.md`; a test checks it is current.
"""

from __future__ import annotations

import types
import typing
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined


def _type_name(annotation: Any, seen: list[type[BaseModel]]) -> str:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        args = get_args(annotation)
        return _special(args[1:]) or _type_name(args[0], seen)
    if origin in (typing.Union, types.UnionType):
        parts = [a for a in get_args(annotation) if a is not type(None)]
        return " \\| ".join(_type_name(p, seen) for p in parts)
    if origin is typing.Literal:
        return " \\| ".join(f"`{v}`" for v in get_args(annotation))
    if origin is dict:
        key, value = get_args(annotation)
        return f"map of {_type_name(key, seen)} → {_type_name(value, seen)}"
    if origin is list:
        return f"list of {_type_name(get_args(annotation)[0], seen)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in seen:
            seen.append(annotation)
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return getattr(annotation, "__name__", str(annotation))


def _special(metadata: Any) -> str | None:
    """Durations, sizes and secret references carry a JSON-schema description that names them."""
    for item in metadata:
        description = str((getattr(item, "json_schema", None) or {}).get("description", ""))
        for prefix, name in (("A duration", "duration"), ("A size", "size"), ("A secret reference", "secret reference")):
            if description.startswith(prefix):
                return name
    return None


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
        return "`{}`" if value == {} else "`[]`" if value == [] else "(object)"
    if field.default is PydanticUndefined or field.default is None:
        return ""
    return f"`{field.default!r}`".replace("|", "\\|")


def render_reference() -> str:
    from brokerform.model import Manifest

    seen: list[type[BaseModel]] = [Manifest]
    lines = [
        "# Manifest reference",
        "",
        "Generated from the pydantic models by `python -m brokerform.model.reference`; do not edit by hand.",
        "Durations take units (`500ms`, `30s`, `15m`, `12h`, `7d`, `2w`; a bare number is seconds); sizes too",
        "(`512B`, `256KiB`, `1MiB`, `10MB`; a bare number is bytes). Secret references are `${env:NAME}`,",
        "`${env:NAME:-default}` or `${file:path}`.",
        "",
    ]
    index = 0
    while index < len(seen):
        model = seen[index]
        index += 1
        lines += [f"## {model.__name__}", ""]
        doc = (model.__doc__ or "").strip().splitlines()
        if doc and not doc[0].startswith("!!!") and "Usage docs" not in doc[0]:
            lines += [doc[0], ""]
        lines += ["| Field | Type | Default | Description |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            key = field.alias or name
            description = (field.description or "").replace("|", "\\|")
            shown = _special(field.metadata) or _type_name(field.annotation, seen)
            lines.append(f"| `{key}` | {shown} | {_default(field)} | {description} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_reference(), end="")
