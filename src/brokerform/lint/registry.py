"""Find every rule class under `brokerform.lint.rules` (one rule per module)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import lru_cache

from brokerform.lint.model import Rule


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule class, sorted by id; ids and names must be unique."""
    import brokerform.lint.rules as package

    found: dict[str, type[Rule]] = {}
    names: dict[str, str] = {}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__ and "id" in vars(obj):
                if obj.id in found:
                    raise RuntimeError(f"duplicate lint rule id {obj.id}: {found[obj.id].__module__} and {module.__name__}")
                if obj.name in names:
                    raise RuntimeError(f"duplicate lint rule name {obj.name}: {names[obj.name]} and {obj.id}")
                found[obj.id] = obj
                names[obj.name] = obj.id
    return tuple(found[key] for key in sorted(found))


def rules_by_id() -> dict[str, type[Rule]]:
    return {rule.id: rule for rule in all_rules()}


def resolve_rule_id(token: str) -> str | None:
    """A rule id (any case) or a rule name, as users write them in config and comments."""
    by_id = rules_by_id()
    upper = token.strip().upper()
    if upper in by_id:
        return upper
    for rule in by_id.values():
        if rule.name == token.strip().lower():
            return rule.id
    return None
