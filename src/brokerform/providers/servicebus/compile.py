"""Compile Service Bus channels and native declarations into desired ARM resources (no SDK imports).

Resources use ARM's JSON property names (so plans read like the REST API) with
durations as integer milliseconds. Addresses:

- namespace            ("", <namespace>)            only when namespace_settings.manage
- queue / topic        ("", <entity>)
- subscription         (<topic>, <subscription>)
- rule                 (<topic>/<subscription>, <rule>)
- authorization_rule   ("" | "queues/<q>" | "topics/<t>", <rule>)

Every declared entity depends on what it forwards to, so a REPLACE of a
forwarding destination re-creates its referrers (the core's cascade).
Tier limits are checked here, against the declared SKU, with located errors;
`ServiceBusProvider.plan_checks` repeats them against the live SKU.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from brokerform.errors import ManifestError, Problem, format_path
from brokerform.resources import Address, Resource

# .NET TimeSpan.MaxValue (P10675199DT2H48M5.4775807S) in whole milliseconds: ARM's "never".
TIMESPAN_MAX_MS = 922_337_203_685_477
ROOT_KEY = "RootManageSharedAccessKey"
DEFAULT_RULE = "$Default"
DEFAULT_RULE_PROPERTIES = {"filterType": "SqlFilter", "sqlExpression": "1=1"}
CHANNEL_FILTER_RULE = "filter"

KB = 1024
STANDARD_MAX_MESSAGE_KB = 256
PREMIUM_MAX_MESSAGE_KB = 102_400
STANDARD_SIZES_MB = (1024, 2048, 3072, 4096, 5120)
BASIC_MAX_TTL_MS = 14 * 86_400_000

DURATION_PROPERTIES = frozenset({
    "lockDuration",
    "defaultMessageTimeToLive",
    "autoDeleteOnIdle",
    "duplicateDetectionHistoryTimeWindow",
})

# manifest field -> ARM property, per entity kind
_COMMON = {
    "default_message_ttl": "defaultMessageTimeToLive",
    "auto_delete_on_idle": "autoDeleteOnIdle",
    "enable_batched_operations": "enableBatchedOperations",
    "status": "status",
}
_ENTITY = {
    **_COMMON,
    "requires_duplicate_detection": "requiresDuplicateDetection",
    "duplicate_detection_window": "duplicateDetectionHistoryTimeWindow",
    "enable_partitioning": "enablePartitioning",
    "max_size_mb": "maxSizeInMegabytes",
    "max_message_size_kb": "maxMessageSizeInKilobytes",
}
_RECEIVER = {
    "lock_duration": "lockDuration",
    "max_delivery_count": "maxDeliveryCount",
    "requires_session": "requiresSession",
    "dead_lettering_on_message_expiration": "deadLetteringOnMessageExpiration",
    "forward_to": "forwardTo",
    "forward_dead_lettered_messages_to": "forwardDeadLetteredMessagesTo",
}
QUEUE_FIELDS = {**_ENTITY, **_RECEIVER}
TOPIC_FIELDS = {**_ENTITY, "support_ordering": "supportOrdering"}
SUBSCRIPTION_FIELDS = {
    **_COMMON,
    **_RECEIVER,
    "dead_lettering_on_filter_evaluation_exceptions": "deadLetteringOnFilterEvaluationExceptions",
}
CORRELATION_FIELDS = {
    "correlation_id": "correlationId",
    "message_id": "messageId",
    "to": "to",
    "reply_to": "replyTo",
    "label": "label",
    "session_id": "sessionId",
    "reply_to_session_id": "replyToSessionId",
    "content_type": "contentType",
}
ALLOWED_STATUS = {
    "queue": ("Active", "Disabled", "SendDisabled", "ReceiveDisabled"),
    "topic": ("Active", "Disabled", "SendDisabled"),
    "subscription": ("Active", "Disabled", "ReceiveDisabled"),
}
IMMUTABLE = {
    "queue": ("requiresSession", "requiresDuplicateDetection", "enablePartitioning"),
    "topic": ("requiresDuplicateDetection", "enablePartitioning"),
    "subscription": ("requiresSession",),
}


def BUILTIN(address: Address) -> bool:
    """Nothing is built in: the root key is never managed (see `_check_auth_rule_name`)."""
    return False


def compile_target(name: str, target: Any, channels: dict, loaded: Any) -> list[Resource]:
    """Desired resources of one Service Bus target; raises ManifestError with located problems."""
    builder = _Builder(name, target, loaded)
    builder.namespace()
    builder.native_entities()
    for key, channel in channels.items():
        builder.channel(key, channel)
    builder.link_forwarding()
    builder.check_tier_limits()
    if builder.problems:
        raise ManifestError(builder.problems)
    return builder.resources


def arm_properties(model: Any, fields: dict[str, str]) -> dict[str, Any]:
    """The declared (non-None) fields of a native model, under their ARM names."""
    out = {}
    for field, arm in fields.items():
        value = getattr(model, field, None)
        if value is not None:
            out[arm] = value
    return out


def rule_properties(rule: Any) -> dict[str, Any]:
    """A native ServiceBusRule as the flat property dict the planner compares."""
    if rule.sql is not None:
        props: dict[str, Any] = {"filterType": "SqlFilter", "sqlExpression": rule.sql.expression}
        if rule.sql.action:
            props["action"] = rule.sql.action
        return props
    corr = rule.correlation
    props = {"filterType": "CorrelationFilter", "correlation": arm_properties(corr, CORRELATION_FIELDS)}
    if corr.properties:
        props["correlation"]["properties"] = dict(corr.properties)
    if corr.action:
        props["action"] = corr.action
    return props


def limit_problems(kind: str, props: dict[str, Any], tier: str) -> list[tuple[str, str]]:
    """(ARM property, message) for every tier or range limit a desired entity breaks."""
    out: list[tuple[str, str]] = []
    basic = tier == "Basic"
    premium = tier == "Premium"
    if kind == "topic" and basic:
        out.append(("", "the Basic tier has no topics; use Standard or Premium"))
    lock = props.get("lockDuration")
    if lock is not None and not 5_000 <= lock <= 300_000:
        out.append(("lockDuration", "lock duration must be between 5s and 5m"))
    idle = props.get("autoDeleteOnIdle")
    if idle is not None and idle < 300_000:
        out.append(("autoDeleteOnIdle", "auto delete on idle must be at least 5m"))
    window = props.get("duplicateDetectionHistoryTimeWindow")
    if window is not None and not 20_000 <= window <= 7 * 86_400_000:
        out.append(("duplicateDetectionHistoryTimeWindow", "the duplicate detection window must be between 20s and 7d"))
    ttl = props.get("defaultMessageTimeToLive")
    if ttl is not None and ttl <= 0:
        out.append(("defaultMessageTimeToLive", "the message TTL must be greater than zero"))
    if ttl is not None and basic and ttl > BASIC_MAX_TTL_MS:
        out.append(("defaultMessageTimeToLive", "the Basic tier caps the message TTL at 14d"))
    size = props.get("maxSizeInMegabytes")
    if size is not None:
        if premium and not (size % 1024 == 0 and 1024 <= size <= 102_400):
            out.append(("maxSizeInMegabytes", "Premium entity sizes are multiples of 1024 MB up to 102400"))
        elif not premium and size not in STANDARD_SIZES_MB:
            out.append(("maxSizeInMegabytes", f"{tier} entity sizes are one of {', '.join(map(str, STANDARD_SIZES_MB))} MB"))
    kb = props.get("maxMessageSizeInKilobytes")
    if kb is not None:
        if not premium and kb != STANDARD_MAX_MESSAGE_KB:
            out.append(("maxMessageSizeInKilobytes", f"messages over 256 KB need the Premium tier (this namespace is {tier})"))
        elif premium and not 1024 <= kb <= PREMIUM_MAX_MESSAGE_KB:
            out.append(("maxMessageSizeInKilobytes", "Premium message sizes are between 1024 and 102400 KB"))
    if basic:
        for prop, feature in (("requiresSession", "sessions"), ("requiresDuplicateDetection", "duplicate detection"),
                              ("forwardTo", "auto-forwarding"), ("forwardDeadLetteredMessagesTo", "auto-forwarding")):
            if props.get(prop):
                out.append((prop, f"the Basic tier has no {feature}; use Standard or Premium"))
    status = props.get("status")
    if status is not None and kind in ALLOWED_STATUS and status not in ALLOWED_STATUS[kind]:
        out.append(("status", f"a {kind} status is one of {', '.join(ALLOWED_STATUS[kind])}"))
    return out


class _Builder:
    """Collects resources and problems for one target."""

    def __init__(self, name: str, target: Any, loaded: Any):
        self.name = name
        self.target = target
        self.loaded = loaded
        self.resources: list[Resource] = []
        self.problems: list[Problem] = []
        self.entity_kinds: dict[str, str] = {}  # lower-case entity name -> "queue" | "topic"
        self.field_sources: dict[tuple[Address, str], tuple] = {}
        self.base = ("targets", name)

    # -- helpers ---------------------------------------------------------------
    def problem(self, path: tuple, message: str, *, key: bool = False) -> None:
        self.problems.append(Problem(self.loaded.locate(path, key=key), message, format_path(path)))

    def add(self, kind: str, scope: str, name: str, props: dict[str, Any], source: tuple, *,
            depends_on: Iterable[Address] = (), protect: bool = False, channel: str | None = None,
            field_paths: dict[str, tuple] | None = None) -> Resource:
        resource = Resource(Address(self.name, kind, scope, name), props, list(depends_on), source, protect, channel)
        self.resources.append(resource)
        for prop, path in (field_paths or {}).items():
            self.field_sources[(resource.address, prop)] = path
        if kind in ("queue", "topic"):
            self.entity_kinds.setdefault(name.lower(), kind)
        return resource

    def in_scope(self, name: str, path: tuple) -> bool:
        prefix = self.target.scope.name_prefix
        if prefix and not name.startswith(prefix):
            self.problem(path, f"{name!r} is outside this target's scope (names must start with {prefix!r})", key=True)
            return False
        return True

    def tier(self) -> str:
        return self.target.namespace_settings.sku

    # -- namespace ---------------------------------------------------------------
    def namespace(self) -> None:
        settings = self.target.namespace_settings
        if not settings.manage:
            return
        path = self.base + ("namespace_settings",)
        if not settings.location:
            self.problem(path, "location is required when manage: true (a namespace cannot be created without it)", key=True)
        props: dict[str, Any] = {"sku": settings.sku}
        for field, arm in (("location", "location"), ("capacity", "capacity"), ("minimum_tls_version", "minimumTlsVersion"),
                           ("disable_local_auth", "disableLocalAuth"), ("zone_redundant", "zoneRedundant")):
            value = getattr(settings, field)
            if value is not None:
                props[arm] = value
        if settings.capacity is not None and settings.sku != "Premium":
            self.problem(path + ("capacity",), "capacity (messaging units) applies to the Premium tier only")
        self.add("namespace", "", self.target.namespace_name, props, path, protect=True)

    def namespace_dependency(self) -> list[Address]:
        if self.target.namespace_settings.manage:
            return [Address(self.name, "namespace", "", self.target.namespace_name)]
        return []

    # -- native declarations ------------------------------------------------------
    def native_entities(self) -> None:
        for rname, rule in self.target.authorization_rules.items():
            self.auth_rule("", rname, rule, self.base + ("authorization_rules", rname), self.namespace_dependency())
        for qname, queue in self.target.queues.items():
            path = self.base + ("queues", qname)
            if not self.in_scope(qname, path):
                continue
            props = arm_properties(queue, QUEUE_FIELDS)
            fields = {arm: path + (f,) for f, arm in QUEUE_FIELDS.items() if getattr(queue, f) is not None}
            self.add("queue", "", qname, props, path, depends_on=self.namespace_dependency(),
                     protect=queue.protect, field_paths=fields)
            self.entity_auth_rules("queues", qname, queue.authorization_rules, path)
        for tname, topic in self.target.topics.items():
            path = self.base + ("topics", tname)
            if not self.in_scope(tname, path):
                continue
            props = arm_properties(topic, TOPIC_FIELDS)
            fields = {arm: path + (f,) for f, arm in TOPIC_FIELDS.items() if getattr(topic, f) is not None}
            self.add("topic", "", tname, props, path, depends_on=self.namespace_dependency(),
                     protect=topic.protect, field_paths=fields)
            self.entity_auth_rules("topics", tname, topic.authorization_rules, path)
            for sname, sub in topic.subscriptions.items():
                self.native_subscription(tname, sname, sub, path + ("subscriptions", sname), topic.protect)

    def entity_auth_rules(self, collection: str, entity: str, rules: dict, path: tuple) -> None:
        kind = "queue" if collection == "queues" else "topic"
        for rname, rule in rules.items():
            self.auth_rule(f"{collection}/{entity}", rname, rule, path + ("authorization_rules", rname),
                           [Address(self.name, kind, "", entity)])

    def auth_rule(self, scope: str, rname: str, rule: Any, path: tuple, depends_on: list[Address]) -> None:
        if rname.lower() == ROOT_KEY.lower():
            self.problem(path, f"{ROOT_KEY} is created with every namespace and cannot be managed", key=True)
            return
        if "Manage" in rule.rights and not {"Listen", "Send"} <= set(rule.rights):
            self.problem(path + ("rights",), "the Manage right needs Listen and Send as well")
        self.add("authorization_rule", scope, rname, {"rights": sorted(set(rule.rights))}, path,
                 depends_on=depends_on, protect=rule.protect)

    def native_subscription(self, topic: str, sname: str, sub: Any, path: tuple, topic_protect: bool) -> None:
        props = arm_properties(sub, SUBSCRIPTION_FIELDS)
        fields = {arm: path + (f,) for f, arm in SUBSCRIPTION_FIELDS.items() if getattr(sub, f) is not None}
        rules = {rname: rule_properties(rule) for rname, rule in sub.rules.items()}
        keep = sub.keep_default_rule if sub.keep_default_rule is not None else (not rules or DEFAULT_RULE in rules)
        if sub.keep_default_rule is False and DEFAULT_RULE in rules:
            self.problem(path + ("keep_default_rule",), f"keep_default_rule is false but rules declares {DEFAULT_RULE}")
        if keep and DEFAULT_RULE not in rules:
            rules[DEFAULT_RULE] = dict(DEFAULT_RULE_PROPERTIES)
        props["keepDefaultRule"] = bool(keep)
        self.subscription_with_rules(topic, sname, props, rules, path, fields, protect=sub.protect or topic_protect,
                                     rule_paths={r: path + ("rules", r) for r in sub.rules})

    def subscription_with_rules(self, topic: str, sname: str, props: dict, rules: dict, path: tuple, fields: dict,
                                *, protect: bool = False, channel: str | None = None,
                                rule_paths: dict[str, tuple] | None = None) -> None:
        topic_address = Address(self.name, "topic", "", topic)
        sub = self.add("subscription", topic, sname, props, path, depends_on=[topic_address], protect=protect,
                       channel=channel, field_paths=fields)
        for rname, rprops in rules.items():
            rpath = (rule_paths or {}).get(rname, path)
            if len(rprops.get("sqlExpression", "")) > 1024 or len(rprops.get("action", "")) > 1024:
                self.problem(rpath, "SQL filter and action expressions are at most 1024 characters")
            if rprops["filterType"] == "CorrelationFilter" and not rprops["correlation"]:
                self.problem(rpath, "a correlation filter needs at least one property")
            self.add("rule", f"{topic}/{sname}", rname, rprops, rpath, depends_on=[sub.address], channel=channel)

    # -- logical channels -----------------------------------------------------------
    def channel(self, key: str, channel: Any) -> None:
        path = ("channels", key)
        entity = channel.name or key
        if not self.in_scope(entity, path):
            return
        receiver = self.receiver_properties(channel, path)
        fields = {"forwardDeadLetteredMessagesTo": path + ("dead_letter", "target")}
        common = self.entity_properties(channel, path)
        deps = self.namespace_dependency()
        if channel.pattern == "pubsub":
            topic_props = dict(common)
            if channel.ordering is not None and channel.ordering.mode in ("sessions", "fifo", "per-key"):
                topic_props["supportOrdering"] = True
            self.add("topic", "", entity, topic_props, path, depends_on=deps, protect=channel.protect, channel=key)
            for sname, sub in channel.subscriptions.items():
                spath = path + ("subscriptions", sname)
                props = dict(receiver)
                rules: dict[str, dict] = {}
                if sub.filter is not None:
                    rules[CHANNEL_FILTER_RULE] = self.filter_rule(sub.filter, spath + ("filter",))
                else:
                    rules[DEFAULT_RULE] = dict(DEFAULT_RULE_PROPERTIES)
                props["keepDefaultRule"] = sub.filter is None
                self.subscription_with_rules(entity, sname, props, rules, spath, fields, protect=channel.protect,
                                             channel=key)
            return
        props = {**common, **receiver}
        self.add("queue", "", entity, props, path, depends_on=deps, protect=channel.protect, channel=key,
                 field_paths=fields)
        if channel.pattern == "request-reply" and channel.reply is not None:
            reply_name = channel.reply.queue or f"{entity}.reply"
            reply = {"defaultMessageTimeToLive": channel.reply.ttl}
            if channel.ack_timeout is not None:
                reply["lockDuration"] = channel.ack_timeout
            self.add("queue", "", reply_name, reply, path + ("reply",), depends_on=deps, protect=channel.protect,
                     channel=key)

    def entity_properties(self, channel: Any, path: tuple) -> dict[str, Any]:
        """What a queue or topic takes from a channel: TTL, duplicate detection, size limits."""
        props: dict[str, Any] = {}
        if channel.ttl is not None:
            props["defaultMessageTimeToLive"] = channel.ttl
        if channel.duplicate_detection is not None:
            props["requiresDuplicateDetection"] = True
            props["duplicateDetectionHistoryTimeWindow"] = channel.duplicate_detection
        if channel.max_length is not None and channel.max_length.bytes is not None:
            props["maxSizeInMegabytes"] = max(1024, math.ceil(channel.max_length.bytes / KB / KB))
        size = channel.contract.max_message_size if channel.contract else None
        size = size or self.target.max_message_size
        if size is not None and size > STANDARD_MAX_MESSAGE_KB * KB:
            props["maxMessageSizeInKilobytes"] = math.ceil(size / KB)
        return props

    def receiver_properties(self, channel: Any, path: tuple) -> dict[str, Any]:
        """What a queue or subscription takes from a channel: lock, delivery count, DLQ, sessions."""
        props: dict[str, Any] = {}
        if channel.ack_timeout is not None:
            props["lockDuration"] = channel.ack_timeout
        dead = channel.dead_letter
        if dead is not None:
            if dead.max_deliveries is not None:
                props["maxDeliveryCount"] = dead.max_deliveries
            elif channel.retry is not None:
                props["maxDeliveryCount"] = channel.retry.attempts + 1
            props["deadLetteringOnMessageExpiration"] = bool(dead.enabled and dead.on_expiry)
            if dead.target:
                props["forwardDeadLetteredMessagesTo"] = dead.target
        elif channel.retry is not None:
            props["maxDeliveryCount"] = channel.retry.attempts + 1
        if channel.ordering is not None and channel.ordering.mode in ("sessions", "fifo"):
            props["requiresSession"] = True
        return props

    def filter_rule(self, flt: Any, path: tuple) -> dict[str, Any]:
        if flt.sql is not None:
            return {"filterType": "SqlFilter", "sqlExpression": flt.sql}
        if flt.headers is not None:
            return {"filterType": "CorrelationFilter", "correlation": {"properties": dict(flt.headers)}}
        self.problem(path, "azure-servicebus subscriptions filter by sql or headers only", key=True)
        return {"filterType": "SqlFilter", "sqlExpression": "1=1"}

    # -- cross-resource checks -----------------------------------------------------
    def link_forwarding(self) -> None:
        """Make every forwarding entity depend on its destination (re-created when it is replaced)."""
        for resource in self.resources:
            if resource.address.kind not in ("queue", "subscription"):
                continue
            for prop in ("forwardTo", "forwardDeadLetteredMessagesTo"):
                destination = resource.properties.get(prop)
                if not destination:
                    continue
                kind = self.entity_kinds.get(destination.lower())
                where = self.field_sources.get((resource.address, prop), resource.source)
                if kind is None:
                    self.problem(where, f"{prop} names {destination!r}, which is not a queue or topic of this target")
                    continue
                if resource.address.kind == "queue" and destination.lower() == resource.address.name.lower():
                    self.problem(where, f"a queue cannot forward to itself ({prop})")
                    continue
                address = Address(self.name, kind, "", self._declared_name(destination))
                if address not in resource.depends_on:
                    resource.depends_on.append(address)

    def _declared_name(self, name: str) -> str:
        for resource in self.resources:
            if resource.address.kind in ("queue", "topic") and resource.address.name.lower() == name.lower():
                return resource.address.name
        return name

    def check_tier_limits(self) -> None:
        tier = self.tier()
        for resource in self.resources:
            kind = resource.address.kind
            if kind not in ("queue", "topic", "subscription"):
                continue
            for prop, message in limit_problems(kind, resource.properties, tier):
                if kind == "topic" and not prop and resource.channel is None:
                    continue  # references.py already reports native topics on Basic
                where = self.field_sources.get((resource.address, prop))
                self.problem(where or resource.source, message, key=where is None)
