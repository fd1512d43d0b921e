"""Kafka provider: confluent-kafka's AdminClient against a KRaft cluster.

Reading costs a constant number of admin round trips however many topics there are:
list_topics (partitions and replicas from metadata), one batched describe_configs of all
in-scope topics, one describe_acls, one describe_user_scram_credentials.

Scope: topics whose name starts with one of `scope.topic_prefixes` (all non-internal topics
when empty); ACLs on in-scope topics, groups and transactional ids; SCRAM users only when the
scope has no prefix. Resources the manifest declares are compared even when they sit outside
the scope (an ACL on a group with another name, a user): the scope only bounds what counts as
unmanaged and what `--prune` may delete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from confluent_kafka import KafkaException, TopicCollection, TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from brokerform.errors import ProviderError
from brokerform.plan.model import Action, AttributeChange, Change, Reason
from brokerform.plan.planner import comparable, diff_properties
from brokerform.providers.base import Capabilities, FieldPolicy, Provider
from brokerform.providers.kafka.client import ClientLogs, admin_client, error_name, kafka_error, target_client_config
from brokerform.providers.kafka.compile import quota_name, acl_name, comparable_config
from brokerform.resources import Address, Resource
from brokerform.secrets import SecretResolutionError, resolve_secret

T = TypeVar("T")
LOCK_TOPIC_PREFIX = "__brokerform-lock-"
MAX_RECORDS_PER_REQUEST = 5_000  # the KRaft controller refuses one operation above 10,000 records
MAX_ACLS_PER_REQUEST = 1_000
_ACL_RESOURCE_TYPES = ("TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID")


def _enum_name(value: Any) -> str:
    return getattr(value, "name", str(value))


_CONFIG_SOURCE_NAMES = {source.value: source.name for source in ConfigSource}
_DYNAMIC_TOPIC_CONFIG = ConfigSource.DYNAMIC_TOPIC_CONFIG.value


def _blocked_topic_change(allow_reassignment: bool):
    def blocked(path: str, before: Any, after: Any) -> str | None:
        if path == "partitions" and before is not None and after is not None and int(after) < int(before):
            return (f"Kafka cannot remove partitions ({before} -> {after}): keep {before}, or create a new topic "
                    "and migrate producers and consumers to it")
        if path == "replication_factor" and before is not None and after is not None:
            if not allow_reassignment:
                return (f"changing the replication factor ({before} -> {after}) needs a partition reassignment; "
                        "set allow_reassignment: true on the target to allow it (brokerform never deletes and "
                        "re-creates a topic for it)")
            return (f"replication factor {before} -> {after}: confluent-kafka's AdminClient has no "
                    "AlterPartitionReassignments call yet; run kafka-reassign-partitions.sh, then plan again")
        return None

    return blocked


def _normalise_topic(path: str, value: Any) -> Any:
    if path.startswith("configs."):
        return comparable_config(path[len("configs."):], value)
    return value


class KafkaProvider(Provider):
    type = "kafka"

    def __init__(self, name: str, target: Any, base_dir: Path | None = None):
        super().__init__(name, target, base_dir)
        self._admin: AdminClient | None = None
        self._config: dict[str, Any] | None = None
        self._outside: dict[Address, Resource] = {}
        self._lock_producer = None
        self._timeout = max(target.timeout / 1000, 1.0)
        self._logs = ClientLogs()
        self.read_outside_users = False  # import: the SCRAM users that in-scope ACLs name

    # -- connection ----------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config = target_client_config(self.target, self.base_dir)
        return self._config

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            self._admin = admin_client({**self.config, "logger": self._logs.logger}, f"target {self.name}")
            self._logs.poll = lambda: self._admin.poll(0) if self._admin is not None else None
        return self._admin

    def _error(self, exc: BaseException, what: str) -> ProviderError:
        return kafka_error(exc, what, self._logs)

    def _wait(self, futures: dict, what: str) -> dict[Any, Any]:
        """Results of a dict of futures; the first error raised as ProviderError."""
        results = {}
        for key, future in futures.items():
            try:
                results[key] = future.result()
            except KafkaException as exc:
                raise self._error(exc, f"{what} {key}") from None
        return results

    def _errors(self, futures: dict, what: str, ok_codes: tuple[str, ...] = ()) -> dict[Any, str | None]:
        """Per-key error text (None = ok) of a dict of futures."""
        errors: dict[Any, str | None] = {}
        for key, future in futures.items():
            try:
                future.result()
                errors[key] = None
            except KafkaException as exc:
                errors[key] = None if error_name(exc) in ok_codes else str(self._error(exc, what))
        return errors

    # -- description ---------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities(
            bulk_create=True,
            bulk_update=True,
            bulk_threshold=2,
            broker_lock=f"topic {LOCK_TOPIC_PREFIX}<scope hash> (CreateTopics is atomic)",
            max_parallelism=8,
            notes=["reads: list_topics + 1 describe_configs + 1 describe_acls + 1 describe_user_scram_credentials"],
        )

    def field_policy(self, kind: str) -> FieldPolicy:
        if kind == "topic":
            return FieldPolicy(
                managed=("configs.*",),
                blocked=_blocked_topic_change(self.target.allow_reassignment),
                holds_data=True,
                normalise=_normalise_topic,
            )
        if kind == "acl":
            return FieldPolicy(updatable=False, recreate_with_dependencies=False)
        return FieldPolicy()

    # -- scope ---------------------------------------------------------------------------
    def _prefixes(self) -> list[str]:
        return list(self.target.scope.topic_prefixes)

    def topic_in_scope(self, name: str) -> bool:
        if name.startswith(LOCK_TOPIC_PREFIX):
            return False
        if name.startswith("__") and not self.target.scope.include_internal:
            return False
        prefixes = self._prefixes()
        return not prefixes or any(name.startswith(p) for p in prefixes)

    def acl_in_scope(self, acl: dict[str, str]) -> bool:
        if not self.target.scope.manage_acls:
            return False
        prefixes = self._prefixes()
        if not prefixes:
            return True
        if acl["resource_type"] not in ("TOPIC", "GROUP", "TRANSACTIONAL_ID"):
            return False
        return any(acl["resource_name"].startswith(p) for p in prefixes)

    def user_in_scope(self, name: str) -> bool:
        return self.target.scope.manage_users and not self._prefixes()

    # -- reading -------------------------------------------------------------------------
    def read_key(self) -> tuple:
        scope = self.target.scope
        return (self.type, self.name, tuple(sorted(self.config.items())), tuple(self._prefixes()),
                scope.include_internal, scope.manage_acls, scope.manage_users, self._timeout)

    def fetch(self) -> dict[str, Any]:
        """Topics with their configs, ACLs and SCRAM users: the admin requests in flight together.

        The principal's cluster permissions come back with them: without DESCRIBE on the cluster
        the broker answers DescribeAcls with an empty list (every declared ACL would look new),
        and confluent-kafka 2.16 aborts the whole process on a refused DescribeUserScramCredentials."""
        binding_filter = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                                          AclOperation.ANY, AclPermissionType.ANY)
        cluster = self.admin.describe_cluster(include_authorized_operations=True, request_timeout=self._timeout)
        acls = self.admin.describe_acls(binding_filter, request_timeout=self._timeout)
        try:
            metadata = self.admin.list_topics(timeout=self._timeout)
        except KafkaException as exc:
            raise self._error(exc, f"cannot list topics on {self.target.bootstrap_servers}") from None
        topics = {name: meta for name, meta in metadata.topics.items() if self.topic_in_scope(name)}
        configs: dict[str, dict] = {}
        if topics:
            futures = self.admin.describe_configs([ConfigResource(ResourceType.TOPIC, name) for name in topics],
                                                  request_timeout=self._timeout)
            configs = {r.name: entries for r, entries in self._wait(futures, "describe configs of topic").items()}
        describable = self._may_describe_cluster(cluster)
        try:
            acl_bindings = acls.result()
        except KafkaException as exc:
            raise self._error(exc, "cannot describe ACLs") from None
        if self.target.scope.manage_acls and not describable:
            raise ProviderError(self._missing_permission("describe ACLs", "manage_acls"))
        return {"topics": topics, "configs": configs, "acls": acl_bindings, "users": self._scram_users(describable)}

    def _may_describe_cluster(self, cluster: Any) -> bool:
        try:
            operations = cluster.result().authorized_operations
        except KafkaException as exc:
            raise self._error(exc, "cannot describe the cluster") from None
        return AclOperation.DESCRIBE in (operations or ())

    def _scram_users(self, describable: bool) -> dict:
        """SCRAM users, read only when the manifest declares users or owns them all (or an import
        wants the users its ACLs name)."""
        if not self.target.users and not self.user_in_scope("") and not self.read_outside_users:
            return {}
        if not describable:
            raise ProviderError(self._missing_permission("describe SCRAM users", "manage_users"))
        try:
            return self.admin.describe_user_scram_credentials(request_timeout=self._timeout).result()
        except KafkaException as exc:
            if error_name(exc) not in ("UNSUPPORTED_VERSION", "_UNSUPPORTED_FEATURE"):
                raise self._error(exc, "cannot describe SCRAM users") from None
            return {}

    def _principal(self) -> str:
        sasl = self.target.sasl
        return f"User:{sasl.username}" if sasl is not None else "the connecting principal"

    def _missing_permission(self, what: str, setting: str) -> str:
        return (f"{self._principal()} may not {what}: it needs DESCRIBE on the cluster (or the broker does not "
                f"report permissions); grant it, or set scope.{setting}: false to leave them alone")

    def read(self, fetched: dict[str, Any] | None = None) -> list[Resource]:
        raw = fetched if fetched is not None else self.fetch()
        self._outside = {}
        resources = self._topics(raw["topics"], raw["configs"])
        resources += self._acls(raw["acls"])
        resources += self._users(raw["users"])
        resources += self._read_quotas()
        return resources

    # -- client quotas (own protocol client: confluent-kafka has no quota API) -------------------
    def declared_quotas(self) -> set[str]:
        return {quota_name(q.user, q.client_id) for q in self.target.quotas}

    def _quota_client(self):
        from brokerform.providers.kafka.quotas import QuotaClient

        return QuotaClient(self.config, self._timeout)

    def _read_quotas(self) -> list[Resource]:
        """Live quotas of the entities the manifest declares (other teams' quotas are never in scope)."""
        declared = self.declared_quotas()
        if not declared or not self.target.scope.manage_quotas:
            return []
        with self._quota_client() as client:
            entries = client.describe()
        resources = []
        for entity, values in entries:
            name = quota_name(entity.get("user"), entity.get("client-id"))
            if name in declared:
                resources.append(Resource(Address(self.name, "quota", "", name),
                                          {"entity": {k: v for k, v in entity.items() if v}, **values}))
        return resources

    def _apply_quota(self, change: Change) -> None:
        desired = dict(change.desired.properties) if change.desired else {}
        live = dict(change.live.properties) if change.live else {}
        entity = desired.pop("entity", None) or live.pop("entity", None)
        live.pop("entity", None)
        set_values = desired if change.action is not Action.DELETE else {}
        remove = [k for k in live if k not in set_values]
        with self._quota_client() as client:
            client.alter(entity, set_values, remove)
            client.wait_until(entity, set_values)

    def outside_scope(self) -> dict[Address, Resource]:
        """Live resources read but outside the scope (the last read)."""
        return dict(self._outside)

    def _topics(self, topics: dict[str, Any], configs: dict[str, dict]) -> list[Resource]:
        resources = []
        for name, meta in sorted(topics.items()):
            if meta.error is not None:
                raise ProviderError(f"topic {name}: {meta.error.str()}", transient=meta.error.retriable())
            resources.append(self._topic_resource(name, meta, configs.get(name, {})))
        return resources

    def _topic_resource(self, name: str, meta, entries: dict) -> Resource:
        partitions = meta.partitions
        replicas = len(partitions[min(partitions)].replicas) if partitions else 0
        dynamic, effective, sources = {}, {}, {}
        for key, entry in entries.items():  # ~40 entries per topic: kept to plain lookups
            value, source = entry.value, entry.source
            effective[key] = value
            sources[key] = _CONFIG_SOURCE_NAMES.get(source) or str(source)
            if source == _DYNAMIC_TOPIC_CONFIG and value is not None:
                dynamic[key] = value
        return Resource(
            Address(self.name, "topic", "", name),
            {"partitions": len(partitions), "replication_factor": replicas, "configs": dict(sorted(dynamic.items()))},
            meta={"effective_configs": effective, "config_sources": sources},
        )

    def _acls(self, bindings: list) -> list[Resource]:
        resources = []
        for binding in bindings:
            acl = _acl_dict(binding)
            resource = Resource(Address(self.name, "acl", "", acl_name(acl)), acl)
            if self.acl_in_scope(acl):
                resources.append(resource)
            else:
                self._outside[resource.address] = resource
        return resources

    def _users(self, described: dict) -> list[Resource]:
        resources = []
        for user, description in sorted(described.items()):
            infos = sorted(description.scram_credential_infos, key=lambda i: _enum_name(i.mechanism))
            if not infos:
                continue
            info = infos[0]
            mechanism = _enum_name(info.mechanism).replace("_", "-")
            resource = Resource(Address(self.name, "user", "", user),
                                {"mechanism": mechanism, "iterations": info.iterations},
                                meta={"mechanisms": [_enum_name(i.mechanism).replace("_", "-") for i in infos]})
            if self.user_in_scope(user):
                resources.append(resource)
            else:
                self._outside[resource.address] = resource
        return resources

    def load_data_counts(self, resources: list[Resource]) -> None:
        """Messages per topic from the earliest and latest offsets of every partition (two calls)."""
        topics = [r for r in resources if r.address.kind == "topic"]
        partitions = [TopicPartition(r.address.name, p) for r in topics for p in range(r.properties.get("partitions", 0))]
        if not partitions:
            return
        try:
            earliest = self._wait(self.admin.list_offsets({tp: OffsetSpec.earliest() for tp in partitions}), "offsets of")
            latest = self._wait(self.admin.list_offsets({tp: OffsetSpec.latest() for tp in partitions}), "offsets of")
        except ProviderError:
            return  # unknown: holds_data() then assumes the topic holds data
        counts: dict[str, int] = {}
        for tp in partitions:
            counts[tp.topic] = counts.get(tp.topic, 0) + max(0, latest[tp].offset - earliest[tp].offset)
        for resource in topics:
            resource.meta["messages"] = counts.get(resource.address.name)

    # -- plan adjustments ------------------------------------------------------------------
    def plan_checks(self, changes: list[Change], desired: dict[Address, Resource], live: dict[Address, Resource]) -> None:
        self._refuse_hidden_topics([c.address.name for c in changes
                                    if c.action is Action.CREATE and c.address.kind == "topic"])
        for change in changes:
            if change.action is Action.CREATE and change.address in self._outside:
                self._compare_outside(change)
            if change.address.kind == "topic" and change.live is not None and change.action is Action.UPDATE:
                self._effective_config_check(change)
                self._config_source_note(change)

    def _refuse_hidden_topics(self, names: list[str]) -> None:
        """The broker lists only the topics a principal may describe: a topic it may not see would
        be planned as new and fail at apply, or look new forever. Asked by name, it says which."""
        if not names:
            return
        futures = self.admin.describe_topics(TopicCollection(names), request_timeout=self._timeout)
        hidden = []
        for name, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                if error_name(exc) == "TOPIC_AUTHORIZATION_FAILED":
                    hidden.append(name)
        if hidden:
            shown = ", ".join(sorted(hidden)[:5]) + (f" and {len(hidden) - 5} more" if len(hidden) > 5 else "")
            raise ProviderError(f"{self._principal()} may not describe topic(s) {shown}: they may exist already, "
                                "so the plan cannot tell whether to create them; grant DESCRIBE on them (a prefixed "
                                "ACL on the scope's topic prefix) or plan as a principal that may")

    def _compare_outside(self, change: Change) -> None:
        """A declared resource that exists outside the scope is compared, not created again."""
        live = self._outside[change.address]
        policy = self.field_policy(change.address.kind)
        change.live = live
        change.attributes = diff_properties(change.desired, live, policy)
        change.action, change.reason = (Action.UPDATE, Reason.DRIFT) if change.attributes else (Action.NOOP, Reason.IN_SYNC)
        if change.attributes and not policy.updatable:
            change.action, change.reason = Action.REPLACE, Reason.IMMUTABLE

    @staticmethod
    def _effective_config_check(change: Change) -> None:
        """A declared config that is not a topic override but whose effective value matches is in sync."""
        effective = change.live.meta.get("effective_configs", {})
        kept = []
        for attribute in change.attributes:
            key = attribute.path[len("configs."):] if attribute.path.startswith("configs.") else None
            if (key and attribute.before is None and attribute.after is not None and key in effective
                    and comparable(comparable_config(key, attribute.after)) == comparable(comparable_config(key, effective[key]))):
                continue
            kept.append(attribute)
        change.attributes = kept
        if not kept:
            change.action, change.reason = Action.NOOP, Reason.IN_SYNC

    @staticmethod
    def _config_source_note(change: Change) -> None:
        if change.action is not Action.UPDATE:
            return
        effective = change.live.meta.get("effective_configs", {})
        sources = change.live.meta.get("config_sources", {})
        parts = []
        for attribute in change.attributes:
            if not attribute.path.startswith("configs."):
                continue
            key = attribute.path[len("configs."):]
            if key in sources:
                parts.append(f"{key}={effective.get(key)} from {sources[key]}")
            else:
                parts.append(f"{key} unknown to the broker")
        if parts:
            change.note = "current: " + ", ".join(parts)

    # -- applying --------------------------------------------------------------------------
    def apply(self, change: Change) -> None:
        kind = change.address.kind
        handler = getattr(self, f"_apply_{kind}", None)
        if handler is None:
            raise ProviderError(f"{change.address}: the kafka provider does not manage {kind} resources")
        handler(change)

    def _apply_topic(self, change: Change) -> None:
        name = change.address.name
        if change.action in (Action.CREATE, Action.REPLACE):
            error = self._create_topics([change.desired])[name]
            if error:
                raise ProviderError(error)
        elif change.action is Action.DELETE:
            futures = self.admin.delete_topics([name], operation_timeout=self._timeout, request_timeout=self._timeout)
            errors = self._errors(futures, "delete topic", ok_codes=("UNKNOWN_TOPIC_OR_PART",))
            if errors[name]:
                raise ProviderError(errors[name])
            _poll_until(lambda: name not in self.admin.list_topics(timeout=self._timeout).topics,
                        _visibility_limit_s(1))
        else:
            self._update_topic(change)

    def _update_topic(self, change: Change) -> None:
        error = self._update_topics([change])[change.address]
        if error:
            raise ProviderError(error)

    def _update_topics(self, changes: list[Change]) -> dict[Address, str | None]:
        """Partition increases in one CreatePartitions, then config changes in IncrementalAlterConfigs
        requests of at most MAX_RECORDS_PER_REQUEST entries: two requests for most plans."""
        errors: dict[Address, str | None] = {c.address: None for c in changes}
        by_name = {c.address.name: c.address for c in changes}
        growth = [NewPartitions(c.address.name, int(a.after)) for c in changes for a in c.attributes
                  if a.path == "partitions"]
        if growth:
            futures = self.admin.create_partitions(growth, operation_timeout=self._timeout,
                                                   request_timeout=self._timeout)
            for name, error in self._errors(futures, "add partitions to topic").items():
                errors[by_name[name]] = error
            grown = {g.topic: g.new_total_count for g in growth if errors[by_name[g.topic]] is None}

            def partitions_listed() -> bool:
                listed = self.admin.list_topics(timeout=self._timeout).topics
                return all(t in listed and len(listed[t].partitions) >= n for t, n in grown.items())

            _poll_until(partitions_listed, _visibility_limit_s(len(grown)))
        resources = []
        for change in changes:
            entries = [self._config_entry(a) for a in change.attributes if a.path.startswith("configs.")]
            if entries and errors[change.address] is None:
                resources.append(ConfigResource(ResourceType.TOPIC, change.address.name, incremental_configs=entries))
        for chunk in _chunks(resources, lambda r: max(len(r.incremental_configs), 1)):
            futures = self.admin.incremental_alter_configs(chunk, request_timeout=self._timeout)
            for resource, error in self._errors(futures, "alter configs of topic").items():
                errors[by_name[resource.name]] = error
        altered = [r for r in resources if errors[by_name[r.name]] is None]
        if altered:
            self._await_configs(altered)
        return errors

    def apply_bulk_updates(self, changes: list[Change]) -> dict[Address, str | None]:
        topics = [c for c in changes if c.address.kind == "topic"]
        errors = self._update_topics(topics) if topics else {}
        self._apply_each([c for c in changes if c.address.kind != "topic"], errors)
        return errors

    def _apply_each(self, changes: list[Change], errors: dict[Address, str | None]) -> None:
        """Changes without a batched request, one by one, their errors recorded per address."""
        for change in changes:
            try:
                self.apply(change)
                errors[change.address] = None
            except ProviderError as exc:
                errors[change.address] = str(exc)

    @staticmethod
    def _config_entry(attribute: AttributeChange) -> ConfigEntry:
        key = attribute.path[len("configs."):]
        if attribute.after is None:  # removed from the manifest: back to the broker default
            return ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE)
        return ConfigEntry(key, str(attribute.after), incremental_operation=AlterConfigOpType.SET)

    def _create_topics(self, resources: list[Resource]) -> dict[str, str | None]:
        """Create topics in requests below the controller's per-request record limit."""
        errors: dict[str, str | None] = {}
        for chunk in _chunks(resources, _topic_records):
            new_topics = [
                NewTopic(r.address.name, num_partitions=r.properties.get("partitions", -1),
                         replication_factor=r.properties.get("replication_factor", -1),
                         config=dict(r.properties.get("configs", {})))
                for r in chunk
            ]
            futures = self.admin.create_topics(new_topics, operation_timeout=self._timeout,
                                               request_timeout=self._timeout)
            # an earlier attempt that timed out may have created it: the next plan compares its configs
            errors.update(self._errors(futures, "create topic", ok_codes=("TOPIC_ALREADY_EXISTS",)))
        created = {name for name, error in errors.items() if error is None}
        if created:
            self._await_topics(created)
        return errors

    def _await_topics(self, names: set[str]) -> None:
        """Wait until the broker's metadata lists topics the controller created (thousands take seconds)."""
        _poll_until(lambda: names <= set(self.admin.list_topics(timeout=self._timeout).topics),
                    _visibility_limit_s(len(names)), interval_s=0.2)

    def _apply_acl(self, change: Change) -> None:
        if change.action is Action.DELETE:
            properties = change.live.properties
            binding_filter = _acl_binding(properties, filter_=True)
            self._wait(self.admin.delete_acls([binding_filter], request_timeout=self._timeout), "delete ACL")
            self._await_acls(lambda names: change.address.name not in names, binding_filter)
        elif change.action in (Action.CREATE, Action.REPLACE):
            error = self._create_acls([change.desired])[change.address]
            if error:
                raise ProviderError(error)
        else:
            raise ProviderError(f"{change.address}: ACLs are never updated in place")

    def _create_acls(self, resources: list[Resource], *, wait: bool = True) -> dict[Address, str | None]:
        """Without `wait`, the caller awaits visibility with `_await_created_acls` (the controller has
        committed them either way)."""
        errors: dict[Address, str | None] = {}
        for start in range(0, len(resources), MAX_ACLS_PER_REQUEST):
            chunk = resources[start:start + MAX_ACLS_PER_REQUEST]
            bindings = {_acl_binding(r.properties): r.address for r in chunk}
            futures = self.admin.create_acls(list(bindings), request_timeout=self._timeout)
            for binding, error in self._errors(futures, "create ACL").items():
                errors[bindings[binding]] = error
        if wait:
            self._await_created_acls(errors)
        return errors

    def _await_created_acls(self, errors: dict[Address, str | None]) -> None:
        created = {a.name for a, e in errors.items() if e is None}
        if created:
            self._await_acls(lambda names: created <= names, limit_s=_visibility_limit_s(len(created)))

    def _await_acls(self, visible, binding_filter=None, limit_s: float = 10.0) -> None:
        """Wait until the broker's authorizer shows what the controller committed (it lags by ~100 ms),
        so that a plan right after apply sees the ACLs as they are."""
        if binding_filter is None:
            binding_filter = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                                              AclOperation.ANY, AclPermissionType.ANY)
        _poll_until(lambda: visible({acl_name(_acl_dict(b)) for b in self.admin.describe_acls(
            binding_filter, request_timeout=self._timeout).result()}), limit_s)

    def _await_users(self, expected: dict[str, tuple[str, int] | None]) -> None:
        """Wait until SCRAM credentials read back as written: (mechanism, iterations), or gone (None)."""
        def visible() -> bool:
            described = self.admin.describe_user_scram_credentials(request_timeout=self._timeout).result()
            for user, want in expected.items():
                infos = {(_enum_name(i.mechanism).replace("_", "-"), i.iterations)
                         for i in (described[user].scram_credential_infos if user in described else [])}
                if (want is None and infos) or (want is not None and want not in infos):
                    return False
            return True

        _poll_until(visible, _visibility_limit_s(len(expected)))

    def _await_configs(self, resources: list[ConfigResource]) -> None:
        """Wait until describe_configs shows altered topic configs (set values, deleted keys not dynamic)."""
        def visible() -> bool:
            futures = self.admin.describe_configs([ConfigResource(ResourceType.TOPIC, r.name) for r in resources],
                                                  request_timeout=self._timeout)
            described = {r.name: f.result() for r, f in futures.items()}
            for resource in resources:
                entries = described.get(resource.name, {})
                for entry in resource.incremental_configs:
                    live = entries.get(entry.name)
                    if entry.incremental_operation == AlterConfigOpType.DELETE:
                        if live is not None and live.source == _DYNAMIC_TOPIC_CONFIG:
                            return False
                    elif live is None or (comparable_config(entry.name, live.value)
                                          != comparable_config(entry.name, entry.value)):
                        return False
            return True

        _poll_until(visible, _visibility_limit_s(len(resources)))

    def _apply_user(self, change: Change) -> None:
        if change.action is Action.DELETE:
            mechanisms = change.live.meta.get("mechanisms") or [change.live.properties["mechanism"]]
            alterations = [UserScramCredentialDeletion(change.address.name, _scram_mechanism(m)) for m in mechanisms]
        else:
            alterations = [self._user_upsertion(change.address.name, change.desired.properties)]
        futures = self.admin.alter_user_scram_credentials(alterations, request_timeout=self._timeout)
        self._wait(futures, "alter SCRAM credentials of user")
        properties = change.desired.properties if change.action is not Action.DELETE else None
        self._await_users({change.address.name: _scram_state(properties)})

    def _user_upsertion(self, name: str, properties: dict[str, Any]) -> UserScramCredentialUpsertion:
        user = self.target.users.get(name)
        if user is None:
            raise ProviderError(f"user {name}: no password declared")
        try:
            password = resolve_secret(user.password, self.base_dir)
        except SecretResolutionError as exc:
            raise ProviderError(f"user {name}: password: {exc}") from None
        info = ScramCredentialInfo(_scram_mechanism(properties["mechanism"]), int(properties["iterations"]))
        return UserScramCredentialUpsertion(name, info, password.encode())

    def apply_bulk(self, changes: list[Change]) -> dict[Address, str | None]:
        """Create many topics, ACLs and users with one request per kind (chunked).

        ACLs are committed first: a broker applies metadata in order, and after a large
        CreateTopics it is busy creating partition logs for seconds before later ACL records take
        effect. Committed first, the ACLs are enforced at once, and a topic is never
        readable-but-denied. Their read-back is awaited after the topics are created, not before."""
        errors: dict[Address, str | None] = {}
        by_kind: dict[str, list[Change]] = {}
        for change in changes:
            by_kind.setdefault(change.address.kind, []).append(change)
        acls = by_kind.pop("acl", [])
        acl_errors = self._create_acls([c.desired for c in acls], wait=False) if acls else {}
        errors.update(acl_errors)
        topics = by_kind.pop("topic", [])
        if topics:
            created = self._create_topics([c.desired for c in topics])
            errors.update({c.address: created.get(c.address.name) for c in topics})
        self._await_created_acls(acl_errors)
        users = by_kind.pop("user", [])
        if users:
            errors.update(self._create_users(users))
        for rest in by_kind.values():
            self._apply_each(rest, errors)
        return errors

    def _create_users(self, changes: list[Change]) -> dict[Address, str | None]:
        errors: dict[Address, str | None] = {}
        alterations = []
        for change in changes:
            try:
                alterations.append(self._user_upsertion(change.address.name, change.desired.properties))
            except ProviderError as exc:
                errors[change.address] = str(exc)
        if alterations:
            futures = self.admin.alter_user_scram_credentials(alterations, request_timeout=self._timeout)
            for user, error in self._errors(futures, "create SCRAM credentials of user").items():
                errors[Address(self.name, "user", "", user)] = error
            self._await_users({c.address.name: _scram_state(c.desired.properties) for c in changes
                               if errors.get(c.address) is None})
        return errors

    # -- locking ---------------------------------------------------------------------------
    def lock_topic(self) -> str:
        scope = json.dumps([self.target.bootstrap_servers, sorted(self._prefixes())])
        return LOCK_TOPIC_PREFIX + hashlib.sha256(scope.encode()).hexdigest()[:16]

    @contextlib.contextmanager
    def lock(self, owner: str, timeout_s: float) -> Iterator[None]:
        """A lock on the broker: the topic `__brokerform-lock-<hash of scope>` exists while an apply runs.

        CreateTopics is atomic, so TOPIC_ALREADY_EXISTS means another apply holds it. The holder
        writes one message (owner, time) to it; a lock older than `lock_lease` is broken.
        """
        topic = self.lock_topic()
        deadline = time.monotonic() + timeout_s
        while not self._try_lock(topic, owner):
            holder, acquired_ms = self._lock_holder(topic)
            age_s = (time.time() * 1000 - acquired_ms) / 1000 if acquired_ms else None
            if age_s is not None and age_s * 1000 > self.target.lock_lease:
                self._delete_lock(topic)  # stale: its holder died without releasing it
                continue
            if time.monotonic() >= deadline:
                since = f" for {age_s:.0f}s" if age_s is not None else ""
                raise ProviderError(f"timed out after {timeout_s:.0f}s waiting for the apply lock {topic} "
                                    f"(held by {holder or 'an unknown owner'}{since}; a lock older than "
                                    f"{self.target.lock_lease // 1000}s is broken automatically)")
            time.sleep(1.0)
        try:
            yield
        finally:
            self._delete_lock(topic)

    def _try_lock(self, topic: str, owner: str) -> bool:
        futures = self.admin.create_topics([NewTopic(topic, 1, -1)], operation_timeout=self._timeout,
                                           request_timeout=self._timeout)
        try:
            futures[topic].result()
        except KafkaException as exc:
            if error_name(exc) == "TOPIC_ALREADY_EXISTS":
                return False
            raise self._error(exc, f"cannot take the apply lock {topic}") from None
        self._lock_producer = self._write_lock_owner(topic, owner)
        return True

    def _write_lock_owner(self, topic: str, owner: str):
        """Send the owner record without waiting: delivery overlaps the plan and is flushed on release."""
        from confluent_kafka import Producer

        producer = Producer({**self.config, "logger": self._logs.logger, "acks": "all", "message.timeout.ms": int(self._timeout * 1000)})
        value = json.dumps({"owner": owner, "host": socket.gethostname(), "pid": os.getpid(),
                            "acquired_ms": int(time.time() * 1000)})
        producer.produce(topic, value.encode())
        producer.poll(0)
        return producer

    def _lock_holder(self, topic: str) -> tuple[str | None, int | None]:
        from confluent_kafka import OFFSET_BEGINNING, Consumer

        consumer = Consumer({**self.config, "logger": self._logs.logger, "group.id": f"{topic}-reader", "enable.auto.commit": False})
        try:
            consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
            message = consumer.poll(3.0)
            if message is None or message.error():
                return None, None
            data = json.loads(message.value())
            return data.get("owner"), data.get("acquired_ms")
        except (KafkaException, ValueError):
            return None, None
        finally:
            consumer.close()

    def _delete_lock(self, topic: str) -> None:
        producer, self._lock_producer = self._lock_producer, None
        if producer is not None:
            producer.flush(self._timeout)
        futures = self.admin.delete_topics([topic], operation_timeout=self._timeout, request_timeout=self._timeout)
        self._errors(futures, "release lock", ok_codes=("UNKNOWN_TOPIC_OR_PART",))

    def close(self) -> None:
        self._admin = None


def _poll_until(visible: Callable[[], bool], limit_s: float, interval_s: float = 0.1) -> None:
    """Poll until the broker shows a change or the limit passes (then the next plan shows the lag);
    an error while polling ends the wait: the change itself was acknowledged."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            if visible():
                return
        except KafkaException:
            return
        time.sleep(interval_s)


def _scram_state(properties: dict[str, Any] | None) -> tuple[str, int] | None:
    return None if properties is None else (properties["mechanism"], int(properties["iterations"]))


def _visibility_limit_s(count: int) -> float:
    """How long to wait for `count` new objects to reach the broker's metadata before moving on."""
    return 10.0 + count * 0.02


def _chunks(items: list[T], size: Callable[[T], int], limit: int = MAX_RECORDS_PER_REQUEST) -> Iterator[list[T]]:
    """Consecutive groups whose summed size stays at or below the limit (an oversized item goes alone)."""
    chunk: list[T] = []
    total = 0
    for item in items:
        weight = size(item)
        if chunk and total + weight > limit:
            yield chunk
            chunk, total = [], 0
        chunk.append(item)
        total += weight
    if chunk:
        yield chunk


def _topic_records(resource: Resource) -> int:
    """Metadata records of a new topic: the topic, its partitions and its configs."""
    return 1 + max(resource.properties.get("partitions", 1), 1) + len(resource.properties.get("configs", {}))


def _scram_mechanism(name: str) -> ScramMechanism:
    return ScramMechanism[name.replace("-", "_")]


def _acl_dict(binding) -> dict[str, str]:
    restype = _enum_name(binding.restype)
    return {
        "principal": binding.principal,
        "host": binding.host,
        "operation": _enum_name(binding.operation),
        "permission": _enum_name(binding.permission_type),
        "resource_type": "CLUSTER" if restype == "BROKER" else restype,
        "resource_name": binding.name,
        "pattern_type": _enum_name(binding.resource_pattern_type),
    }


def _acl_binding(acl: dict[str, str], *, filter_: bool = False):
    restype = "BROKER" if acl["resource_type"] == "CLUSTER" else acl["resource_type"]
    cls = AclBindingFilter if filter_ else AclBinding
    return cls(ResourceType[restype], acl["resource_name"], ResourcePatternType[acl["pattern_type"]],
               acl["principal"], acl["host"], AclOperation[acl["operation"]], AclPermissionType[acl["permission"]])


PROVIDER = KafkaProvider
