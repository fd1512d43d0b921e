"""Build the report data model from a loaded manifest (and compiled/live data when available)."""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from brokerform import __version__
from brokerform.errors import BrokerformError
from brokerform.export.identifiers import Identifiers
from brokerform.manifest.loader import available_environments
from brokerform.model.units import format_duration_ms, format_size_bytes
from brokerform.report import capabilities
from brokerform.report.diagram import Diagram, build_diagram
from brokerform.report.fit import describe_requirements, score_channel
from brokerform.report.history import manifest_history, manifest_related_files
from brokerform.report.lint_adapter import lint_summary
from brokerform.report.model import (
    SEVERITY_ORDER,
    ChannelSection,
    Finding,
    LintSummary,
    LiveTarget,
    NativeResourceRow,
    Principal,
    Report,
    TargetSummary,
)
from brokerform.report.posture import assess_target
from brokerform.report.render import slug
from brokerform.report.sizing import size_channel

NATIVE_COLLECTIONS = {
    "rabbitmq": ("exchanges", "queues", "bindings", "policies", "operator_policies", "users", "permissions", "parameters"),
    "kafka": ("topics", "acls", "users", "quotas", "services", "consumer_groups"),
    "azure-servicebus": ("queues", "topics", "authorization_rules"),
    "aws": ("queues", "topics", "subscriptions"),
}
MAX_LIVE_CHANGES = 20


@dataclass
class ReportOptions:
    live: bool = False
    history: bool = True
    lint: bool = True
    compiled: bool = True  # show compiled native resources (off in golden tests: compile modules evolve)
    generated_at: str | None = None  # injected for reproducible output; see generated_at_from_env
    matrix_path: Path | None = None


def generated_at_from_env() -> str | None:
    """SOURCE_DATE_EPOCH (reproducible builds) or None: reports carry no timestamp by default."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return None
    try:
        return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).isoformat(timespec="seconds")
    except ValueError:
        return None


def _loc(loaded, path: tuple) -> str:
    return str(loaded.locate(path))


def compile_resources(loaded) -> tuple[dict, str]:
    """Compiled native resources per target, or ({}, why) when compile is unavailable/failing."""
    try:
        from brokerform.compile import compile_manifest

        desired = compile_manifest(loaded)
    except BrokerformError as exc:
        return {}, f"compile failed: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - compile modules are optional for the report
        return {}, f"compile unavailable: {type(exc).__name__}: {exc}"
    if not any(d.resources for d in desired.values()):
        return desired, "compile produced no native resources yet; native resources below are derived from the manifest"
    return desired, ""


def _endpoint(target) -> str:
    if target.type == "rabbitmq":
        return target.amqp_url or target.url
    if target.type == "kafka":
        return target.bootstrap_servers
    if target.type == "azure-servicebus":
        return f"{target.namespace_name}.servicebus.windows.net"
    return f"{target.region}" + (f" via {target.endpoint_url}" if target.endpoint_url else "")


def _redact_url(text: str) -> str:
    return re.sub(r"//[^/@\s]+@", "//***@", text)


def tls_text(target) -> str:
    if target.type == "azure-servicebus":
        return "TLS (always on)" + (f", min {target.namespace_settings.minimum_tls_version}" if target.namespace_settings.minimum_tls_version else "")
    if target.type == "aws":
        return "plain HTTP (local endpoint)" if (target.endpoint_url or "").startswith("http://") else "HTTPS"
    if target.type == "kafka" and str(target.security_protocol).upper() in ("SSL", "SASL_SSL"):
        return f"{target.security_protocol}" + (f" ({target.sasl.mechanism})" if target.sasl else "")
    tls = target.tls
    if tls is None or not tls.enabled:
        extra = f" ({target.security_protocol}{', SASL ' + target.sasl.mechanism if target.sasl else ''})" if target.type == "kafka" else ""
        return "none (plaintext)" + extra
    return "TLS" + ("" if tls.verify else " WITHOUT verification") + (f", min {tls.min_version}" if tls.min_version else "")


def declared_counts(name: str, target, channels: int) -> dict[str, int]:
    counts = {"channels": channels} if channels else {}
    for field_name in NATIVE_COLLECTIONS[target.type]:
        value = getattr(target, field_name)
        if value:
            counts[field_name] = len(value)
    if target.type == "azure-servicebus":
        subs = sum(len(t.subscriptions) for t in target.topics.values())
        if subs:
            counts["subscriptions"] = subs
    return counts


def target_summaries(loaded, desired: dict) -> list[TargetSummary]:
    manifest = loaded.manifest
    matrix_labels = capabilities._packaged_matrix()
    out = []
    for name, target in manifest.targets.items():
        channels = sum(1 for c in manifest.channels.values() if c.target == name)
        compiled = desired.get(name)
        if compiled is not None and compiled.resources:
            counts = dict(sorted(Counter(a.kind for a in compiled.resources).items()))
            source = "compiled"
        else:
            counts = declared_counts(name, target, channels)
            source = "declared"
        out.append(TargetSummary(
            name=name,
            type=target.type,
            label=capabilities.broker_label(matrix_labels, target.type),
            environment=target.environment,
            owner=target.owner,
            endpoint=_redact_url(_endpoint(target)),
            tls=tls_text(target),
            channels=channels,
            resource_counts=counts,
            resource_source=source,
        ))
    return out


def _regex_matches(pattern: str, names: list[str]) -> bool:
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    return any(compiled.search(n) for n in names)


def channel_principals(name: str, channel, target, native_names: list[str]) -> list[Principal]:
    principals = [Principal(p, "publish", "producer") for p in channel.producers]
    principals += [Principal(c, "consume", "consumer") for c in channel.consumers]
    for sub_name, sub in channel.subscriptions.items():
        principals += [Principal(c, f"consume ({sub_name})", "consumer") for c in sub.consumers]
    for acl in channel.acls:
        principals.append(Principal(acl.principal, f"{acl.permission} {', '.join(acl.operations)} from {acl.host}", "channel acl"))
    if target.type == "rabbitmq":
        for user, perm in target.permissions.items():
            rights = [r for r in ("configure", "write", "read") if _regex_matches(getattr(perm, r), native_names) and getattr(perm, r) != "^$"]
            if rights:
                principals.append(Principal(user, f"{'/'.join(rights)} (vhost {target.scope.vhost})", "rabbitmq permission"))
        for user, rules in target.topic_permissions.items():
            for rule in rules:
                if rule.exchange in native_names:
                    principals.append(Principal(user, f"topic write {rule.write} read {rule.read} on {rule.exchange}", "rabbitmq topic permission"))
    elif target.type == "kafka":
        for acl in target.acls:
            if acl.resource_type != "TOPIC":
                continue
            hit = acl.resource_name in native_names if acl.pattern_type == "LITERAL" else any(n.startswith(acl.resource_name) for n in native_names)
            if hit or acl.resource_name == "*":
                principals.append(Principal(acl.principal, f"{acl.permission} {acl.operation}", "kafka acl"))
        for sname, service in target.services.items():
            ops = [op for op, topics in (("write", service.produces), ("read", service.consumes)) if any(t in native_names for t in topics)]
            if ops:
                principals.append(Principal(service.principal, " + ".join(ops) + (f" (group {service.group})" if service.group else ""), f"kafka service {sname}"))
    elif target.type == "azure-servicebus":
        for rule_name, rule in target.authorization_rules.items():
            principals.append(Principal(rule_name, ", ".join(rule.rights), "namespace SAS rule"))
        for entity in [*(target.queues.get(n) for n in native_names), *(target.topics.get(n) for n in native_names)]:
            if entity is not None:
                for rule_name, rule in entity.authorization_rules.items():
                    principals.append(Principal(rule_name, ", ".join(rule.rights), "entity SAS rule"))
    return principals


SECURITY_KINDS = {"acl", "permission", "topic_permission", "authorization_rule", "queue_policy", "topic_policy", "user"}


def compiled_principals(name: str, channel, desired: dict) -> list[Principal]:
    """Access rules the compile step derived for this channel (e.g. Kafka ACLs from producers)."""
    compiled = desired.get(channel.target)
    if compiled is None:
        return []
    return [
        Principal(address.name, "", f"compiled {address.kind}")
        for address, resource in sorted(compiled.resources.items())
        if resource.channel == name and address.kind in SECURITY_KINDS
    ]


def channel_native_rows(name: str, diagram: Diagram, channel, desired: dict) -> list[NativeResourceRow]:
    compiled = desired.get(channel.target)
    if compiled is not None and compiled.resources:
        rows = [
            NativeResourceRow(a.kind, a.name if not a.scope else f"{a.scope}/{a.name}", "compiled")
            for a, r in sorted(compiled.resources.items()) if r.channel == name
        ]
        if rows:
            return rows
    base = channel.name or name
    prefix = f"{channel.target}:"
    extras = _channel_extras(channel, base)
    rows = []
    for node_id, node in diagram.nodes.items():
        if not node_id.startswith(prefix):
            continue
        native = node_id[len(prefix):]
        if native == base or native.startswith(base + "/") or native in extras:
            rows.append(NativeResourceRow(node.kind, native, node.detail))
    return rows


def _channel_extras(channel, base: str) -> set[str]:
    extras = set()
    if channel.dead_letter is not None and channel.dead_letter.enabled:
        extras.add(channel.dead_letter.target or f"{base}.dlq")
    if channel.reply is not None:
        extras.add(channel.reply.queue or f"{base}.reply")
    return extras


def _delivery_text(channel, matrix, broker: str) -> str:
    req = channel.requirements
    if req is None or req.delivery is None:
        return "not declared"
    how = matrix["brokers"][broker]["delivery"][req.delivery].get("how", "")
    return f"{req.delivery} — {how}" if how else req.delivery


def _ordering_text(channel) -> str:
    if channel.ordering is not None and channel.ordering.mode != "none":
        return channel.ordering.mode + (f" by {channel.ordering.key}" if channel.ordering.key else "")
    if channel.requirements is not None and channel.requirements.ordering:
        return f"required: {channel.requirements.ordering} (no ordering configured)" if channel.requirements.ordering != "none" else "none"
    return "none"


def _retention_text(channel) -> str:
    parts = []
    if channel.ttl is not None:
        parts.append(f"ttl {format_duration_ms(channel.ttl)}")
    req = channel.requirements
    if req is not None and req.retention is not None:
        parts.append(f"retention {format_duration_ms(req.retention)} required")
    if channel.max_length is not None:
        limit = []
        if channel.max_length.messages is not None:
            limit.append(f"{channel.max_length.messages:,} messages")
        if channel.max_length.bytes is not None:
            limit.append(format_size_bytes(channel.max_length.bytes))
        parts.append(f"max length {' / '.join(limit)} ({channel.max_length.overflow})")
    if channel.duplicate_detection is not None:
        parts.append(f"duplicate detection {format_duration_ms(channel.duplicate_detection)}")
    return "; ".join(parts) or "broker default"


def _dead_letter_text(name: str, channel) -> str:
    dl = channel.dead_letter
    if dl is None or not dl.enabled:
        return "none"
    parts = [f"to {dl.target or (channel.name or name) + '.dlq'}"]
    if dl.max_deliveries:
        parts.append(f"after {dl.max_deliveries} deliveries")
    if dl.ttl is not None:
        parts.append(f"kept {format_duration_ms(dl.ttl)}")
    parts.append("expired messages too" if dl.on_expiry else "not on expiry")
    if dl.alert:
        parts.append("alert when not empty")
    return ", ".join(parts)


def _retry(channel) -> tuple[str, list[str]]:
    retry = channel.retry
    if retry is None:
        return "none", []
    text = f"{retry.attempts} attempts, {retry.backoff} backoff from {format_duration_ms(retry.initial_delay)}"
    if retry.backoff == "exponential":
        text += f" ×{retry.multiplier:g}"
    if retry.max_delay is not None:
        text += f", capped at {format_duration_ms(retry.max_delay)}"
    tiers = [f"retry {i + 1}: {format_duration_ms(d)}" for i, d in enumerate(retry.delays_ms())]
    return text, tiers


def _schema_text(channel) -> tuple[str, list[str]]:
    contract = channel.contract
    if contract is None:
        return "no contract", []
    parts = [contract.schema_file or "no schema file"]
    if contract.format:
        parts.append(contract.format)
    if contract.version:
        parts.append(f"v{contract.version}")
    if contract.compatibility:
        parts.append(f"{contract.compatibility} compatible")
    if contract.content_type:
        parts.append(contract.content_type)
    if contract.max_message_size is not None:
        parts.append(f"max {format_size_bytes(contract.max_message_size)}")
    return ", ".join(parts), list(contract.required_properties)


def _monitoring(channel) -> list[str]:
    m = channel.monitoring
    if m is None:
        return []
    out = []
    if m.max_depth is not None:
        out.append(f"depth > {m.max_depth:,} messages")
    if m.max_age is not None:
        out.append(f"oldest message older than {format_duration_ms(m.max_age)}")
    if m.max_consumer_lag is not None:
        out.append(f"consumer lag > {m.max_consumer_lag:,}")
    if m.min_consumers is not None:
        out.append(f"fewer than {m.min_consumers} consumer(s)")
    if m.max_error_rate is not None:
        out.append(f"error rate > {m.max_error_rate:.0%}")
    if m.max_latency is not None:
        out.append(f"latency > {format_duration_ms(m.max_latency)} (SLA)")
    if m.min_publish_rate is not None:
        out.append(f"fewer than {m.min_publish_rate:g} msg/s published")
    if m.dlq_not_empty:
        out.append("dead-letter queue not empty")
    return out


def _client(channel) -> list[str]:
    c = channel.client
    if c is None:
        return []
    out = []
    if c.prefetch is not None:
        out.append("prefetch unbounded" if c.prefetch == 0 else f"prefetch {c.prefetch}")
    if c.batch_size is not None:
        out.append(f"batches of {c.batch_size}" + (f" (linger {format_duration_ms(c.linger)})" if c.linger else ""))
    if c.connection_pool is not None:
        out.append(f"{c.connection_pool} connection(s) per instance")
    if c.publisher_confirms is not None:
        out.append("publisher confirms" if c.publisher_confirms else "no publisher confirms")
    if c.max_publish_rate is not None:
        out.append(f"producers throttled to {c.max_publish_rate:g} msg/s")
    if c.compression:
        out.append(f"{c.compression} compression")
    return out


def channel_sections(loaded, diagram: Diagram, desired: dict, matrix) -> list[ChannelSection]:
    manifest = loaded.manifest
    sections = []
    anchors = Identifiers(lambda name: "channel-" + slug(name), separator="-")
    for name, channel in manifest.channels.items():
        target = manifest.targets[channel.target]
        native = channel_native_rows(name, diagram, channel, desired)
        native_names = [r.name for r in native] + [channel.name or name]
        retry_text, tiers = _retry(channel)
        schema, props = _schema_text(channel)
        sections.append(ChannelSection(
            name=name,
            target=channel.target,
            broker=target.type,
            pattern=channel.pattern,
            description=channel.description,
            owner=channel.owner,
            producers=list(channel.producers),
            consumers=list(channel.consumers),
            subscriptions=[
                {"name": s, "filter": _filter(sub.filter), "consumers": list(sub.consumers)}
                for s, sub in channel.subscriptions.items()
            ],
            native_resources=native,
            delivery=_delivery_text(channel, matrix, target.type),
            ordering=_ordering_text(channel),
            retention=_retention_text(channel),
            dead_letter=_dead_letter_text(name, channel),
            retry=retry_text,
            retry_tiers=tiers,
            schema=schema,
            required_properties=props,
            security=channel_principals(name, channel, target, native_names) + compiled_principals(name, channel, desired),
            tls=tls_text(target),
            monitoring=_monitoring(channel),
            client=_client(channel),
            requirements=describe_requirements(channel)[1:],
            anchor=anchors(name),
        ))
    return sections


def _filter(flt) -> str:
    from brokerform.report.diagram import filter_text

    return filter_text(flt) or "all messages"


def fit_findings(loaded, fits) -> list[Finding]:
    findings = []
    for fit in fits:
        chosen = fit.chosen
        if chosen is None:
            continue
        location = _loc(loaded, ("channels", fit.channel, "target"))
        if fit.verdict == "no requirements":
            findings.append(Finding("info", "broker-fit", f"channel {fit.channel}",
                                    "no requirements declared: broker fit not scored", location,
                                    "declare requirements (delivery, throughput, ordering, ...)"))
            continue
        misfits = [c for c in chosen.checks if c.status == "misfit"]
        alternatives = ", ".join(fit.alternatives) or "none of the other brokers fits better"
        if misfits:
            what = "; ".join(f"{c.dimension} {c.required}: {c.detail}" for c in misfits)
            findings.append(Finding("warning", "broker-fit", f"channel {fit.channel}",
                                    f"{chosen.label} does not fit: {what}", location,
                                    f"better-fitting alternatives: {alternatives}"))
        elif fit.alternatives:
            partial = "; ".join(f"{c.dimension} {c.required}" for c in chosen.checks if c.status == "partial")
            findings.append(Finding("info", "broker-fit", f"channel {fit.channel}",
                                    f"{chosen.label} fits only partially ({partial})", location,
                                    f"fully fitting alternatives: {alternatives}"))
    return findings


def live_summary(loaded) -> list[LiveTarget]:
    from brokerform.plan.engine import build_plan
    from brokerform.plan.model import PlanOptions

    try:
        session = build_plan(loaded, PlanOptions())
    except BrokerformError as exc:
        return [LiveTarget("(all)", {}, exc.message if not exc.problems else str(exc), [])]
    try:
        out = []
        for tp in session.plan.targets:
            changes = [f"{c.action.value} {c.address}" for c in tp.pending][:MAX_LIVE_CHANGES]
            counts = {k: v for k, v in tp.counts().items() if v}
            out.append(LiveTarget(tp.target, counts, tp.error, changes))
        return out
    finally:
        session.close()


def _owners(manifest) -> list[str]:
    owners = {manifest.metadata.owner}
    owners |= {t.owner for t in manifest.targets.values()}
    owners |= {c.owner for c in manifest.channels.values()}
    return sorted(o for o in owners if o)


def build_report(loaded, options: ReportOptions | None = None) -> Report:
    options = options or ReportOptions()
    manifest = loaded.manifest
    matrix = capabilities.load_matrix(options.matrix_path)
    desired, compile_note = compile_resources(loaded) if options.compiled else ({}, "")
    diagram = build_diagram(manifest)
    findings: list[Finding] = []

    fits = [score_channel(matrix, n, c, manifest.targets[c.target].type) for n, c in manifest.channels.items()]
    findings += fit_findings(loaded, fits)

    posture = []
    for name, target in manifest.targets.items():
        channels = {n: c for n, c in manifest.channels.items() if c.target == name}
        locate = lambda path: _loc(loaded, path)  # noqa: E731
        item, gaps = assess_target(name, target, channels, locate)
        posture.append(item)
        findings += gaps

    sizing = []
    for name, channel in manifest.channels.items():
        row, gaps = size_channel(name, channel, manifest.targets[channel.target].type, matrix)
        for gap in gaps:
            gap.location = gap.location or _loc(loaded, ("channels", name))
        sizing.append(row)
        findings += gaps

    lint = lint_summary(loaded) if options.lint else LintSummary(available=False, note="lint skipped")
    history, history_note = (None, "history skipped")
    if options.history:
        history, history_note = manifest_history(manifest_related_files(loaded), loaded.base_dir)

    findings.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.category, f.subject, f.message))
    return Report(
        title=manifest.metadata.description or loaded.base_dir.name,
        description=manifest.metadata.description,
        manifest_path=str(loaded.root),
        environment=loaded.environment,
        environments=available_environments(loaded.root),
        owners=_owners(manifest),
        generated_at=options.generated_at,
        version=__version__,
        targets=target_summaries(loaded, desired),
        channels=channel_sections(loaded, diagram, desired, matrix),
        diagram=diagram,
        fits=fits,
        posture=posture,
        sizing=sizing,
        findings=findings,
        lint=lint,
        live=live_summary(loaded) if options.live else None,
        history=history,
        history_note=history_note,
        compile_note=compile_note,
        delivery_strategies=matrix.get("delivery_strategies", {}),
        matrix_rows=capabilities.matrix_rows(matrix),
        sources=matrix.get("sources", {}),
    )
