"""Machine output: every finding (and every suppressed one) with its location."""

from __future__ import annotations

import json

from brokerform import __version__


def render(result, **_: object) -> str:
    data = {
        "tool": "brokerform",
        "version": __version__,
        "findings": [f.to_dict() for f in result.findings],
        "suppressed": [f.to_dict() for f in result.suppressed],
        "summary": {
            "error": result.count("error"),
            "warning": result.count("warning"),
            "info": result.count("info"),
            "suppressed": len(result.suppressed),
            "rules": len(result.rules),
        },
    }
    return json.dumps(data, indent=2) + "\n"
