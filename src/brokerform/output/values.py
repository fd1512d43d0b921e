"""How values look in human-readable output."""

from __future__ import annotations

import json
from typing import Any


def show(value: Any) -> str:
    if value is None:
        return "(default)"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
