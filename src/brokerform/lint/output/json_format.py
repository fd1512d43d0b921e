"""Machine output: every finding (and every suppressed one) with its location."""

from __future__ import annotations

import json

from brokerform import __version__
from brokerform.lint.output.paths import printable


def _finding(finding) -> dict:
    return {key: printable(value) if isinstance(value, str) else value for key, value in finding.to_dict().items()}


def render(result, **_: object) -> str:
    data = {
        "tool": "brokerform",
        "version": __version__,
        "findings": [_finding(f) for f in result.findings],
        "suppressed": [_finding(f) for f in result.suppressed],
        "summary": {
            "error": result.count("error"),
            "warning": result.count("warning"),
            "info": result.count("info"),
            "suppressed": len(result.suppressed),
            "rules": len(result.rules),
        },
    }
    return json.dumps(data, indent=2) + "\n"
