"""Where brokerform's jinja2 templates live: the top-level `templates/` folder of a source
checkout, or the copy a wheel installs as `brokerform/templates` (see pyproject's package-dir)."""

from __future__ import annotations

from pathlib import Path

from brokerform.errors import BrokerformError

_PACKAGE = Path(__file__).resolve().parent


def template_dir(name: str) -> Path:
    """The folder `templates/<name>` (e.g. "report", "pulumi/aws", "init")."""
    for root in (_PACKAGE.parents[1] / "templates", _PACKAGE / "templates"):
        candidate = root / name
        if candidate.is_dir():
            return candidate
    raise BrokerformError(f"the templates/{name} folder is missing from this brokerform installation")
