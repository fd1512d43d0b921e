"""Plan every target of a manifest concurrently and independently.

A target that cannot be reached gets an error in its own TargetPlan; the others'
plans are still computed and shown.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brokerform.compile import DesiredTarget, compile_manifest
from brokerform.errors import BrokerformError, format_path
from brokerform.gcpause import gc_paused
from brokerform.plan.model import Action, Plan, PlanOptions, Reason, TargetPlan
from brokerform.plan.planner import plan_target, topological_order
from brokerform.plan.prefetch import Prefetch, start_prefetch
from brokerform.providers import get_provider
from brokerform.providers.base import Provider
from brokerform.resources import fingerprint
from brokerform.secrets import SecretResolutionError, redact, unresolvable_secret_references


@dataclass
class PlanSession:
    """A plan plus the open providers that computed it (apply reuses them)."""

    plan: Plan
    desired: dict[str, DesiredTarget]
    providers: dict[str, Provider] = field(default_factory=dict)
    locks: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    loaded: Any = None  # the LoadedManifest (source locations); freeing it is left until the plan is shown

    def close(self) -> None:
        self.locks.close()
        for provider in self.providers.values():
            try:
                provider.close()
            except Exception:  # noqa: BLE001 - closing must never mask the real outcome
                pass


def target_fingerprints(desired: dict[str, DesiredTarget]) -> dict[str, str]:
    return {name: fingerprint(d.resources) for name, d in desired.items()}


def manifest_fingerprint(desired: dict[str, DesiredTarget], per_target: dict[str, str] | None = None) -> str:
    """One hash over every target's desired resources."""
    per_target = per_target or target_fingerprints(desired)
    digest = hashlib.sha256("\n".join(f"{n}={per_target[n]}" for n in sorted(per_target)).encode())
    return "sha256:" + digest.hexdigest()


@gc_paused
def build_plan(
    loaded,
    options: PlanOptions,
    targets: list[str] | None = None,
    *,
    manifest_path: str = "",
    variables: dict | None = None,
    lock_owner: str | None = None,
    lock_timeout: float = 60.0,
    prefetch: Prefetch | None = None,
) -> PlanSession:
    """Plan all targets; with lock_owner, each target's apply lock is taken before its read.

    Early reads from `prefetch` are used only without a lock (see plan/prefetch.py)."""
    desired = compile_manifest(loaded, targets)
    desired_fingerprint = functools.cache(lambda name: fingerprint(desired[name].resources))
    settings = loaded.manifest.settings
    effective = PlanOptions(options.allow_replace, options.allow_data_loss, options.prune or settings.prune)
    session = PlanSession(
        Plan(
            targets=[],
            manifest_path=manifest_path,
            environment=loaded.environment,
            variables=dict(variables or {}),
            options=effective,
        ),
        desired,
        loaded=loaded,
    )
    session.plan.manifest_fingerprint = lambda: manifest_fingerprint(
        desired, {name: desired_fingerprint(name) for name in desired})

    def plan_one(name: str) -> TargetPlan:
        d = desired[name]
        try:
            provider = get_provider(name, d.target, loaded.base_dir)
            session.providers[name] = provider
            fetched = order = None
            if lock_owner:
                session.locks.enter_context(provider.lock(lock_owner, lock_timeout))
            elif prefetch is not None:
                order = topological_order(d.resources)  # meanwhile, an early read may still be running
                fetched = prefetch.take(name, provider)
            live = provider.read() if fetched is None else provider.read(fetched)  # type: ignore[call-arg]
            target_plan = plan_target(
                name, d.type, d.resources, live, provider, effective,
                target_protect=getattr(d.target, "protect", False),
                allow_replace_default=settings.allow_replace or getattr(d.target, "allow_replace", False),
                desired_fingerprint=lambda: desired_fingerprint(name), order=order,
            )
            _block_changes_missing_secrets(target_plan, d.target, loaded, name)
            return target_plan
        except (BrokerformError, SecretResolutionError) as exc:
            return TargetPlan(name, d.type, error=redact(_located_message(exc, loaded, name)))
        except Exception as exc:  # noqa: BLE001 - one broken target never hides the others
            return TargetPlan(name, d.type, error=redact(f"{type(exc).__name__}: {exc}"))

    names = list(desired)
    if len(names) <= 1:
        session.plan.targets = [plan_one(n) for n in names]
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
            session.plan.targets = list(pool.map(plan_one, names))
    return session


def _block_changes_missing_secrets(target_plan: TargetPlan, target: Any, loaded, name: str) -> None:
    """A change whose declaration holds a secret that cannot be resolved (an unset or empty
    variable, a missing file) is BLOCKED at its line: apply would otherwise create the vhost, then
    fail on the user. Secrets of objects already in sync are not needed, so they are not required,
    and only the declarations of pending changes are searched (a no-change plan searches nothing)."""
    for change in target_plan.changes:
        if change.desired is None or change.action not in (Action.CREATE, Action.UPDATE, Action.REPLACE):
            continue
        source = tuple(change.desired.source or ())
        if source[:2] != ("targets", name):
            continue  # declared by a channel: channels hold no secrets
        declaration = _model_at(target, source[2:])
        problems = unresolvable_secret_references(declaration, loaded.base_dir) if declaration is not None else []
        if problems:
            change.action, change.reason = Action.BLOCKED, Reason.MISSING_SECRET
            change.blocked_reason = redact("; ".join(
                f"{loaded.locate(source + relative)}: {format_path(source + relative)}: {exc}"
                for relative, exc in problems))


def _model_at(value: Any, path: tuple) -> Any:
    """The part of a target's model at a manifest path (field aliases, dict keys, list indexes)."""
    for part in path:
        fields = getattr(type(value), "model_fields", None)
        if fields is not None:
            name = next((n for n, info in fields.items() if (info.alias or n) == part), None)
            value = getattr(value, name) if name is not None else None
        elif isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return None
        if value is None:
            return None
    return value


def _located_message(exc: Exception, loaded, target: str) -> str:
    """The error, prefixed with FILE:LINE:COL and field when it is about a secret reference
    (resolved only when a provider connects, long after loading located everything else)."""
    cause = next((e for e in (exc, exc.__cause__, exc.__context__) if isinstance(e, SecretResolutionError)), None)
    path = _reference_path(loaded.data.get("targets", {}).get(target), cause.reference, ("targets", target)) \
        if cause is not None and cause.reference else None
    if path is None:
        return str(exc)
    return f"{loaded.locate(path)}: {format_path(path)}: {cause}"


def _reference_path(data: Any, reference: str, path: tuple) -> tuple | None:
    """Where in the target's data a string holding `reference` sits (first found)."""
    if isinstance(data, str):
        return path if reference in data else None
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        found = _reference_path(value, reference, path + (key,))
        if found is not None:
            return found
    return None


@gc_paused
def plan_manifest(
    path: str | Path,
    environment: str | None,
    variables: dict | None,
    options: PlanOptions,
    targets: list[str] | None = None,
) -> PlanSession:
    """Load a manifest and plan it, with each target's live read started before loading begins."""
    from brokerform.manifest.loader import load_manifest

    prefetch = start_prefetch(path, environment, variables, targets)
    switch_interval = sys.getswitchinterval()
    if prefetch:  # let the reading threads take the GIL back promptly while this one parses
        sys.setswitchinterval(min(switch_interval, 0.001))
    try:
        loaded = load_manifest(path, environment, variables)
        return build_plan(loaded, options, targets, manifest_path=str(path), variables=variables, prefetch=prefetch)
    finally:
        sys.setswitchinterval(switch_interval)
        prefetch.close()
