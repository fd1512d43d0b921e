"""Merging manifest files and environment overlays, with duplicate detection."""

from __future__ import annotations

from typing import Any

from brokerform.errors import Problem, format_path
from brokerform.manifest.yamlsource import SourceMap


def is_resource_path(path: tuple) -> bool:
    """A declaration that may appear only once across all files."""
    if len(path) == 2 and path[0] == "channels":
        return True
    return len(path) == 4 and path[0] == "targets"


def merge_declarations(
    base: dict, base_src: SourceMap, new: dict, new_src: SourceMap, path: tuple, problems: list[Problem]
) -> None:
    """Merge one file into the accumulated manifest; the same declaration twice is a problem."""
    for key, value in new.items():
        here = path + (key,)
        if key not in base:
            base[key] = value
            base_src.update(_subtree(new_src, here))
            continue
        current = base[key]
        if isinstance(current, dict) and isinstance(value, dict) and not is_resource_path(here):
            merge_declarations(current, base_src, value, new_src, here, problems)
        elif isinstance(current, list) and isinstance(value, list) and len(here) == 3 and here[0] == "targets":
            offset = len(current)
            current.extend(value)
            for sub, loc in _subtree(new_src, here).values.items():
                if len(sub) > len(here) and isinstance(sub[len(here)], int):
                    moved = here + (sub[len(here)] + offset,) + sub[len(here) + 1 :]
                    base_src.values[moved] = loc
            for sub, loc in _subtree(new_src, here).keys.items():
                if len(sub) > len(here) and isinstance(sub[len(here)], int):
                    base_src.keys[here + (sub[len(here)] + offset,) + sub[len(here) + 1 :]] = loc
        else:
            first = base_src.locate(here, key=True)
            second = new_src.locate(here, key=True)
            problems.append(
                Problem(second, f"declared twice: first at {first}, again at {second}", format_path(here))
            )


def apply_overlay(base: dict, base_src: SourceMap, overlay: dict, overlay_src: SourceMap, path: tuple = ()) -> None:
    """Environment overlay: mappings merge, everything else replaces; null removes a key."""
    for key, value in overlay.items():
        here = path + (key,)
        if value is None:
            base.pop(key, None)
            base_src.drop(here)
            continue
        current = base.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            if here in overlay_src.keys:
                base_src.keys.setdefault(here, overlay_src.keys[here])
            apply_overlay(current, base_src, value, overlay_src, here)
        else:
            base[key] = value
            base_src.drop(here)
            base_src.update(_subtree(overlay_src, here))


def _subtree(src: SourceMap, prefix: tuple) -> SourceMap:
    n = len(prefix)
    return SourceMap({p: l for p, l in src.values.items() if p[:n] == prefix},
                     {p: l for p, l in src.keys.items() if p[:n] == prefix})


def deep_get(data: Any, path: tuple) -> Any:
    for element in path:
        if isinstance(data, dict) and element in data:
            data = data[element]
        elif isinstance(data, list) and isinstance(element, int) and 0 <= element < len(data):
            data = data[element]
        else:
            return None
    return data
