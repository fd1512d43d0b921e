"""The report's data model: plain dataclasses the templates read (no rendering here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass
class Finding:
    """A gap the reviewer should see: broker misfit, posture hole, sizing problem, lint result."""

    severity: str  # error | warning | info
    category: str  # broker-fit | posture | sizing | security | lint
    subject: str  # "channel orders.events", "target orders-rmq"
    message: str
    location: str = ""
    suggestion: str = ""


@dataclass
class TargetSummary:
    name: str
    type: str
    label: str
    environment: str | None
    owner: str | None
    endpoint: str
    tls: str
    channels: int
    resource_counts: dict[str, int]
    resource_source: str  # "compiled" or "declared"


@dataclass
class NativeResourceRow:
    kind: str
    name: str
    details: str = ""


@dataclass
class Principal:
    name: str
    rights: str
    source: str  # producer | consumer | acl | permission | kafka-acl | ...


@dataclass
class ChannelSection:
    name: str
    target: str
    broker: str
    pattern: str
    description: str | None
    owner: str | None
    producers: list[str]
    consumers: list[str]
    subscriptions: list[dict[str, Any]]
    native_resources: list[NativeResourceRow]
    delivery: str
    ordering: str
    retention: str
    dead_letter: str
    retry: str
    retry_tiers: list[str]
    schema: str
    required_properties: list[str]
    security: list[Principal]
    tls: str
    monitoring: list[str]
    client: list[str]
    requirements: list[str]
    anchor: str = ""  # the HTML id of the channel's section, unique in the report


@dataclass
class FitCheck:
    dimension: str
    required: str
    status: str  # fits | partial | misfit
    detail: str
    source: str = ""


@dataclass
class BrokerScore:
    broker: str
    label: str
    score: int
    max_score: int
    misfits: int
    partials: int
    checks: list[FitCheck]

    @property
    def fits(self) -> bool:
        return self.misfits == 0


@dataclass
class ChannelFit:
    channel: str
    broker: str
    requirements: list[str]
    scores: list[BrokerScore]  # chosen broker first, then alternatives by score
    verdict: str  # fits | partial | misfit | no requirements
    alternatives: list[str]

    @property
    def chosen(self) -> BrokerScore | None:
        return next((s for s in self.scores if s.broker == self.broker), None)


@dataclass
class PostureItem:
    aspect: str  # high availability | disaster recovery | data loss | security
    status: str  # ok | gap | info
    detail: str


@dataclass
class TargetPosture:
    target: str
    type: str
    items: list[PostureItem]


@dataclass
class SizingRow:
    channel: str
    broker: str
    throughput: str
    message_size: str
    retention: str
    copies: int
    storage: str
    storage_bytes: int | None
    storage_formula: str
    consumers: int | None
    consumers_formula: str
    partitions: int | None
    partitions_formula: str
    notes: list[str] = field(default_factory=list)


@dataclass
class LintSummary:
    available: bool
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    note: str = ""


@dataclass
class LiveTarget:
    target: str
    summary: dict[str, int]
    error: str | None
    changes: list[str]


@dataclass
class HistoryEntry:
    commit: str
    date: str
    author: str
    subject: str


@dataclass
class Report:
    title: str
    description: str | None
    manifest_path: str
    environment: str | None
    environments: list[str]
    owners: list[str]
    generated_at: str | None
    version: str
    targets: list[TargetSummary]
    channels: list[ChannelSection]
    diagram: Any  # brokerform.report.diagram.Diagram
    fits: list[ChannelFit]
    posture: list[TargetPosture]
    sizing: list[SizingRow]
    findings: list[Finding]
    lint: LintSummary
    live: list[LiveTarget] | None
    history: list[HistoryEntry] | None
    history_note: str
    compile_note: str
    delivery_strategies: dict[str, dict[str, str]]
    matrix_rows: list[dict[str, Any]]
    sources: dict[str, str]

    def findings_by_severity(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        for finding in self.findings:
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
        return counts
