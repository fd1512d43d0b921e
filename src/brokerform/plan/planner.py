"""Diff desired native resources against live ones and decide safe actions.

Only what the manifest declares is compared (plus properties the provider marks as
managed, so removing one returns it to the broker's default); broker defaults and
server-managed fields never show up as drift.
"""

from __future__ import annotations

import copy
from collections import defaultdict, deque
from typing import Any, Callable, Iterable

from brokerform.plan.model import Action, AttributeChange, Change, PlanOptions, Reason, TargetPlan
from brokerform.providers.base import FieldPolicy, Provider
from brokerform.resources import Address, Resource, fingerprint, flatten


def comparable(value: Any) -> Any:
    """A loose canonical form: 604800000 == "604800000", True == "true", 1.0 == 1."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("true", "false"):
            return text.lower()
        try:
            number = float(text)
        except ValueError:
            return value
        return str(int(number)) if number.is_integer() and "e" not in text.lower() else str(number)
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    return value


def diff_properties(desired: Resource, live: Resource, policy: FieldPolicy) -> list[AttributeChange]:
    if desired.properties == live.properties:  # the common case in a no-change plan
        return []
    want = flatten(desired.properties)
    have = flatten(live.properties)
    keys = set(want) | set(policy.defaults) | {k for k in have if policy.is_managed(k)}
    changes: list[AttributeChange] = []
    for key in sorted(keys):
        if policy.is_ignored(key):
            continue
        after = want.get(key, policy.defaults.get(key))
        before = have.get(key, policy.defaults.get(key))
        a, b = after, before
        if policy.normalise is not None:
            a, b = policy.normalise(key, a), policy.normalise(key, b)
        if comparable(a) != comparable(b):
            changes.append(AttributeChange(key, before, after, policy.is_immutable(key)))
    return changes


def topological_order(resources: dict[Address, Resource]) -> list[Address]:
    """Dependencies first; ties broken by address so plans are stable."""
    indegree: dict[Address, int] = dict.fromkeys(resources, 0)
    children: defaultdict[Address, list[Address]] = defaultdict(list)
    for address, resource in resources.items():
        count = 0
        for dependency in resource.depends_on:
            if dependency in indegree and dependency != address:
                count += 1
                children[dependency].append(address)
        if count:
            indegree[address] = count
    ready = deque(sorted([a for a, d in indegree.items() if not d]))
    order: list[Address] = []
    while ready:
        current = ready.popleft()
        order.append(current)
        waiting = children.get(current)
        if not waiting:  # most resources: nothing depends on a queue or a binding
            continue
        for child in sorted(waiting) if len(waiting) > 1 else waiting:
            indegree[child] -= 1
            if not indegree[child]:
                ready.append(child)
    if len(order) < len(resources):  # a cycle: keep going rather than lose resources
        placed = set(order)
        order.extend(sorted(a for a in resources if a not in placed))
    return order


def plan_target(
    name: str,
    target_type: str,
    desired: dict[Address, Resource],
    live_resources: Iterable[Resource],
    provider: Provider,
    options: PlanOptions,
    *,
    target_protect: bool = False,
    allow_replace_default: bool = False,
    desired_fingerprint: str | Callable[[], str] | None = None,
    order: list[Address] | None = None,
) -> TargetPlan:
    """`order`: topological_order(desired), when the caller computed it while waiting for the read."""
    live = {r.address: r for r in live_resources}
    changes: dict[Address, Change] = {}
    out_of_sync: list[Change] = []  # the passes below look only at these: in a large plan, a few
    policies: dict[str, FieldPolicy] = {}
    for address in order if order is not None else topological_order(desired):
        resource, current = desired[address], live.get(address)
        if current is not None and resource.properties == current.properties:  # in sync: most of a large plan
            changes[address] = Change(address, Action.NOOP, Reason.IN_SYNC, [], resource, current,
                                      depends_on=resource.depends_on)
            continue
        policy = policies.get(address.kind) or policies.setdefault(address.kind, provider.field_policy(address.kind))
        change = changes[address] = _compare(resource, current, policy)
        out_of_sync.append(change)
    out_of_sync += _cascade_replacements(changes, out_of_sync, desired, provider)
    unmanaged = sorted(live.keys() - desired.keys())
    deletes: list[Change] = []
    recreated: list[Change] = []
    if not options.prune:
        recreated = _recreate_unmanaged_dependants(changes, unmanaged, live, provider)
        if recreated:
            taken = {c.address for c in recreated}
            unmanaged = [a for a in unmanaged if a not in taken]
            out_of_sync += recreated
    else:
        order = topological_order({a: live[a] for a in unmanaged})
        for address in reversed(order):
            deletes.append(Change(address, Action.DELETE, Reason.REMOVED, live=live[address], depends_on=[]))
        unmanaged = []
    out_of_sync += deletes
    _mark_data_loss(out_of_sync, provider)
    _apply_safety(out_of_sync, options, target_protect, allow_replace_default)
    provider.plan_checks(out_of_sync, desired, live)
    plan = TargetPlan(name, target_type, list(changes.values()) + recreated + deletes, unmanaged)
    plan.live_fingerprint = lambda: fingerprint(live)
    plan.desired_fingerprint = desired_fingerprint or (lambda: fingerprint(desired))
    return plan


def _compare(resource: Resource, live: Resource | None, policy: FieldPolicy) -> Change:
    if live is None:
        return Change(resource.address, Action.CREATE, Reason.NEW, desired=resource, depends_on=resource.depends_on,
                      attributes=[AttributeChange(k, None, v) for k, v in sorted(flatten(resource.properties).items())])
    attributes = diff_properties(resource, live, policy)
    change = Change(resource.address, Action.NOOP, Reason.IN_SYNC, attributes, resource, live, depends_on=resource.depends_on)
    if not attributes:
        return change
    if policy.blocked is not None:
        for attribute in attributes:
            why = policy.blocked(attribute.path, attribute.before, attribute.after)
            if why:
                change.action, change.reason, change.blocked_reason = Action.BLOCKED, Reason.IMPOSSIBLE, why
                return change
    if any(a.forces_replace for a in attributes):
        change.action, change.reason = Action.REPLACE, Reason.IMMUTABLE
    else:
        change.action, change.reason = Action.UPDATE, Reason.DRIFT
    return change


def _cascade_replacements(changes: dict[Address, Change], out_of_sync: list[Change], desired: dict[Address, Resource],
                          provider: Provider) -> list[Change]:
    """A replaced resource takes its dependants with it (bindings, subscriptions): re-create them too.
    Returns the in-sync changes this turned into replaces."""
    replaced = {c.address for c in out_of_sync if c.action is Action.REPLACE}
    if not replaced:
        return []
    cascaded = []
    for address, change in changes.items():  # already in dependency order
        if change.action not in (Action.NOOP, Action.UPDATE) or change.live is None:
            continue
        if not provider.field_policy(address.kind).recreate_with_dependencies:
            continue
        parents = [d for d in desired[address].depends_on if d in replaced]
        if parents:
            if change.action is Action.NOOP:
                cascaded.append(change)
            change.action, change.reason = Action.REPLACE, Reason.DEPENDENCY_REPLACED
            change.note = f"re-created because {parents[0]} is replaced"
            replaced.add(address)
    return cascaded


def _recreate_unmanaged_dependants(changes: dict[Address, Change], unmanaged: list[Address],
                                   live: dict[Address, Resource], provider: Provider) -> list[Change]:
    """An unmanaged resource that depends (live `depends_on`) on a replaced one is destroyed by the broker
    with it, so it cannot be reported as "kept": re-create it exactly as it was live. Whatever it held
    (a subscription's messages) is still lost, so `_mark_data_loss` makes it need --allow-data-loss."""
    replaced = {a for a, c in changes.items() if c.action is Action.REPLACE}
    if not replaced or not unmanaged:
        return []
    recreated = []
    for address in topological_order({a: live[a] for a in unmanaged}):  # parents first: a rule after its subscription
        current = live[address]
        parents = [d for d in current.depends_on if d in replaced]
        if not parents or not provider.field_policy(address.kind).recreate_with_dependencies:
            continue
        desired = Resource(address, copy.deepcopy(current.properties), list(current.depends_on))
        recreated.append(Change(address, Action.REPLACE, Reason.DEPENDENCY_REPLACED, [], desired, current,
                                depends_on=list(current.depends_on),
                                note=f"unmanaged: re-created as it is live because {parents[0]} is replaced"))
        replaced.add(address)
    return recreated


def _mark_data_loss(changes: list[Change], provider: Provider) -> None:
    candidates = [(c, c.live) for c in changes if c.action in (Action.DELETE, Action.REPLACE) and c.live is not None]
    if not candidates:
        return
    provider.load_data_counts([live for _, live in candidates])
    for change, live in candidates:
        if provider.holds_data(live):
            change.destructive = True
            change.messages = live.meta.get("messages")


def _apply_safety(changes: list[Change], options: PlanOptions, target_protect: bool, allow_replace_default: bool) -> None:
    for change in changes:
        if change.action not in (Action.DELETE, Action.REPLACE):
            continue
        protected = target_protect or any(r is not None and r.protect for r in (change.desired, change.live))
        if protected:
            verb = "delete" if change.action is Action.DELETE else "replace"
            change.blocked_reason = f"protect: true forbids this {verb}; remove protect first if it is intended"
            change.action, change.reason = Action.BLOCKED, Reason.PROTECTED
            continue
        refusals = []
        if change.action is Action.REPLACE and not (options.allow_replace or allow_replace_default):
            refusals.append("replace needs --allow-replace")
        if change.destructive and not options.allow_data_loss:
            held = f"{change.messages} message(s)" if change.messages is not None else "data"
            refusals.append(f"would lose {held}; needs --allow-data-loss")
        change.refused = "; ".join(refusals) or None
