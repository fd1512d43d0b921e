"""Export a Service Bus target as a standalone Pulumi Python project (Pulumi.yaml, __main__.py, requirements.txt).

The program declares, with `pulumi_azure_native.servicebus`, the same resources `apply`
would manage, from the same compiled desired state: Namespace (only when
namespace_settings.manage), Queue, Topic, Subscription, Rule and the Namespace/Queue/Topic
authorization rules. Names and ARM values are plain inputs (durations as ISO 8601
strings); ordering follows brokerform's dependencies through `depends_on`.

What Pulumi cannot express the way apply does: a subscription with keep_default_rule
false. Azure creates `$Default` with every subscription and Pulumi has no "absent rule"
resource, so the program says so in a comment (apply deletes it).

Templates come from the checkout's top-level `templates/pulumi/azure/`, then from the
installed package data `brokerform/templates/pulumi/azure/`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from brokerform.compile import DesiredTarget
from brokerform.plan.planner import topological_order
from brokerform.providers.servicebus.compile import CORRELATION_FIELDS, DEFAULT_RULE, DURATION_PROPERTIES
from brokerform.providers.servicebus.durations import ms_to_iso
from brokerform.resources import Address, Resource
from brokerform.export.identifiers import Identifiers
from brokerform.export.pulumi_project import Statement, project_name, render_project

PULUMI_TYPES = {
    "namespace": "Namespace",
    "queue": "Queue",
    "topic": "Topic",
    "subscription": "Subscription",
    "rule": "Rule",
}
NAMESPACE_INPUTS = {"minimumTlsVersion": "minimum_tls_version", "disableLocalAuth": "disable_local_auth",
                    "zoneRedundant": "zone_redundant"}
SYNTHETIC = {"keepDefaultRule"}


def snake(name: str) -> str:
    """ARM camelCase -> the Pulumi Python input name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def arm_value(key: str, value: Any) -> Any:
    return ms_to_iso(value) if key in DURATION_PROPERTIES and isinstance(value, int) else value


def _var_stem(text: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"\W+", "_", text).strip("_").lower())


class _Program:
    def __init__(self, desired: DesiredTarget):
        self.desired = desired
        self.target = desired.target
        self.vars: dict[Address, str] = {}
        self.var_names = Identifiers(_var_stem)

    def var_for(self, address: Address) -> str:
        if address not in self.vars:
            self.vars[address] = self.var_names(address, f"{address.kind}_{address.scope}_{address.name}")
        return self.vars[address]

    def statements(self) -> list[Statement]:
        order = topological_order(self.desired.resources)
        for address in order:
            self.var_for(address)
        return [self.statement(self.desired.resources[a]) for a in order]

    def statement(self, resource: Resource) -> Statement:
        address = resource.address
        kind = address.kind
        if kind == "authorization_rule":
            owner = address.scope.split("/", 1)[0] if address.scope else ""
            pulumi_type = {"": "NamespaceAuthorizationRule", "queues": "QueueAuthorizationRule",
                           "topics": "TopicAuthorizationRule"}[owner]
        else:
            pulumi_type = PULUMI_TYPES[kind]
        logical = f"{address.scope}/{address.name}" if address.scope else address.name
        st = Statement(self.vars[address], pulumi_type, f"{kind}:{logical}", comment=f"brokerform: {address}")
        st.args += [("resource_group_name", "resource_group_name"), ("namespace_name", "namespace_name")]
        getattr(self, f"_{kind}")(resource, st)
        st.depends_on = [self.vars[d] for d in resource.depends_on if d in self.vars]
        return st

    def _entity_args(self, props: dict[str, Any], st: Statement) -> None:
        for key in sorted(props):
            if key not in SYNTHETIC:
                st.args.append((snake(key), repr(arm_value(key, props[key]))))

    def _namespace(self, resource: Resource, st: Statement) -> None:
        props = resource.properties
        st.args.append(("location", repr(props.get("location"))))
        sku = f"servicebus.SBSkuArgs(name={props['sku']!r}, tier={props['sku']!r}"
        sku += f", capacity={props['capacity']!r})" if props.get("capacity") is not None else ")"
        st.args.append(("sku", sku))
        for key, arg in NAMESPACE_INPUTS.items():
            if key in props:
                st.args.append((arg, repr(props[key])))

    def _queue(self, resource: Resource, st: Statement) -> None:
        st.args.append(("queue_name", repr(resource.address.name)))
        self._entity_args(resource.properties, st)

    def _topic(self, resource: Resource, st: Statement) -> None:
        st.args.append(("topic_name", repr(resource.address.name)))
        self._entity_args(resource.properties, st)

    def _subscription(self, resource: Resource, st: Statement) -> None:
        st.args += [("topic_name", repr(resource.address.scope)), ("subscription_name", repr(resource.address.name))]
        self._entity_args(resource.properties, st)
        if resource.properties.get("keepDefaultRule") is False:
            st.notes.append(f"Azure creates a {DEFAULT_RULE} rule (1=1) with this subscription; the manifest removes it "
                            "(keep_default_rule: false), which Pulumi cannot: delete it once after `pulumi up`.")

    def _rule(self, resource: Resource, st: Statement) -> None:
        topic, sub = resource.address.scope.split("/", 1)
        props = resource.properties
        st.args += [("topic_name", repr(topic)), ("subscription_name", repr(sub)),
                    ("rule_name", repr(resource.address.name)), ("filter_type", repr(props["filterType"]))]
        if props["filterType"] == "SqlFilter":
            st.args.append(("sql_filter", f"servicebus.SqlFilterArgs(sql_expression={props['sqlExpression']!r})"))
        else:
            correlation = props.get("correlation") or {}
            inner = [f"{snake(arm) if arm != 'to' else 'to'}={correlation[arm]!r}"
                     for arm in CORRELATION_FIELDS.values() if arm in correlation]
            if correlation.get("properties"):
                values = {k: str(v) if not isinstance(v, bool) else str(v).lower()
                          for k, v in correlation["properties"].items()}
                inner.append(f"properties={values!r}")
            st.args.append(("correlation_filter", f"servicebus.CorrelationFilterArgs({', '.join(inner)})"))
        if props.get("action"):
            st.args.append(("action", f"servicebus.ActionArgs(sql_expression={props['action']!r})"))

    def _authorization_rule(self, resource: Resource, st: Statement) -> None:
        scope = resource.address.scope
        if scope:
            collection, entity = scope.split("/", 1)
            st.args.append(("queue_name" if collection == "queues" else "topic_name", repr(entity)))
        st.args.append(("authorization_rule_name", repr(resource.address.name)))
        st.args.append(("rights", repr(list(resource.properties["rights"]))))


def export_program(loaded, desired: DesiredTarget, out_dir: Path) -> list[Path]:
    """Render the project into out_dir; returns the files written."""
    target = desired.target
    statements = _Program(desired).statements()
    counts: dict[str, int] = {}
    for address in desired.resources:
        counts[address.kind] = counts.get(address.kind, 0) + 1
    context = {
        "project": project_name(desired.name, "brokerform-servicebus"),
        "target_name": desired.name,
        "description": target.description or (loaded.manifest.metadata.description if loaded else None)
        or f"Azure Service Bus topology of brokerform target {desired.name}",
        "resource_group": target.resource_group,
        "namespace": target.namespace_name,
        "manage_namespace": target.namespace_settings.manage,
        "statements": statements,
        "source": str(loaded.display_root) if loaded else "",
        "counts": counts,
    }
    return render_project("pulumi/azure", context, out_dir)
