"""Provider registry. Each broker lives in `brokerform.providers.<package>` with:

- `compile.py`: `compile_target(name, target, channels, loaded) -> list[Resource]` (no SDK imports)
  and optionally `BUILTIN(address) -> bool` for resources that always exist (e.g. amq.direct);
- `provider.py`: a `Provider` subclass named `PROVIDER` (may import the broker SDK).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from brokerform.errors import ProviderError

PACKAGES: dict[str, str] = {
    "rabbitmq": "brokerform.providers.rabbitmq",
    "kafka": "brokerform.providers.kafka",
    "azure-servicebus": "brokerform.providers.servicebus",
    "aws": "brokerform.providers.aws",
}
EXTRAS = {"kafka": "kafka", "azure-servicebus": "azure", "aws": "aws", "rabbitmq": ""}
_overrides: dict[str, Any] = {}


def register(target_type: str, factory: Any) -> None:
    """Replace the provider of a target type (tests use this for in-memory providers)."""
    _overrides[target_type] = factory


def unregister(target_type: str) -> None:
    _overrides.pop(target_type, None)


def compile_module(target_type: str):
    return importlib.import_module(PACKAGES[target_type] + ".compile")


def get_provider(name: str, target: Any, base_dir: Path | None = None):
    """Instantiate the provider of a target, with a clear message when its SDK is missing."""
    if target.type in _overrides:
        return _overrides[target.type](name, target, base_dir)
    try:
        module = importlib.import_module(PACKAGES[target.type] + ".provider")
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get(target.type)
        hint = f"; install it with: pip install 'brokerform[{extra}]'" if extra else ""
        raise ProviderError(f"the {target.type} provider needs the Python package {exc.name!r}{hint}") from None
    return module.PROVIDER(name, target, base_dir)
