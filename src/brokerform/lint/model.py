"""The data the linter works with: rules, the issues they raise, and located findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}
ALL_BROKERS = ("rabbitmq", "kafka", "azure-servicebus", "aws")

CATEGORIES = {
    0: "linter",
    1: "message-design",
    2: "reliability",
    3: "security",
    4: "scalability",
    5: "operability",
    6: "broker-specific",
}


@dataclass(frozen=True)
class Issue:
    """What a rule reports: a manifest path, a message, and the resource it belongs to.

    `resource` is the path of the whole resource (a channel, queue, topic...): its key line
    also accepts a suppression comment. `severity` overrides the rule's default for this
    one issue (environment-aware rules use it); configuration still wins over both.
    """

    path: tuple
    message: str
    resource: tuple | None = None
    severity: Severity | None = None
    key: bool = True


class Rule:
    """One anti-pattern check. Subclasses set the metadata and implement `check`."""

    id: ClassVar[str]
    name: ClassVar[str]
    title: ClassVar[str]
    rationale: ClassVar[str]
    severity: ClassVar[Severity] = "warning"
    brokers: ClassVar[tuple[str, ...]] = ALL_BROKERS
    fix: ClassVar[str]
    source: ClassVar[str]
    url: ClassVar[str | None] = None
    options: ClassVar[dict[str, Any]] = {}  # name -> brokerform.lint.options.Option (count(500), size("256KiB"))
    enabled_by_default: ClassVar[bool] = True

    def check(self, ctx: Any) -> Iterable[Issue]:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def option_specs(cls) -> dict[str, Any]:
        """Each option as an `Option` (what it accepts, how it is parsed)."""
        from brokerform.lint.options import as_option

        return {name: as_option(declared) for name, declared in cls.options.items()}

    @classmethod
    def category(cls) -> str:
        return CATEGORIES.get(int(cls.id[2]), "other")

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        return {
            "id": cls.id,
            "name": cls.name,
            "title": cls.title,
            "category": cls.category(),
            "severity": cls.severity,
            "brokers": list(cls.brokers),
            "enabled_by_default": cls.enabled_by_default,
            "rationale": " ".join(cls.rationale.split()),
            "fix": " ".join(cls.fix.split()),
            "source": cls.source,
            "url": cls.url,
            "options": {name: spec.default for name, spec in cls.option_specs().items()},
        }


@dataclass
class Finding:
    """A located issue, ready for any output format."""

    rule_id: str
    rule_name: str
    severity: Severity
    message: str
    file: str
    line: int
    column: int
    path: str
    resource: str
    anchors: tuple[tuple[str, int], ...] = ()
    suppressed_by: str | None = field(default=None)

    @property
    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.rule_id, self.message)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "rule": self.rule_id,
            "name": self.rule_name,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "resource": self.resource,
        }
        if self.suppressed_by is not None:
            data["suppression"] = self.suppressed_by
        return data


def at_or_above(severity: str, threshold: str) -> bool:
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold]
