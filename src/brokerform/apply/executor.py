"""Run a target plan: dependency order, bounded parallelism, bulk creates, retries.

Deletes (and the delete half of replaces) run first in reverse dependency order, then
creates and updates in dependency order. A permanent failure stops scheduling; work
in flight finishes; the result says exactly what succeeded, failed and was skipped.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable

from brokerform.errors import ProviderError
from brokerform.gcpause import gc_paused
from brokerform.plan.model import Action, Change, TargetPlan
from brokerform.providers.base import Provider
from brokerform.resources import Address
from brokerform.secrets import redact

SUCCEEDED, FAILED, SKIPPED = "succeeded", "failed", "skipped"


@dataclass
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = min(self.base_delay * (2 ** (attempt - 1)), self.max_delay)
        return backoff * (0.5 + random.random() / 2)


@dataclass
class ChangeResult:
    address: Address
    action: str
    status: str
    step: str = ""
    error: str | None = None
    attempts: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "address": self.address.to_dict(),
            "id": str(self.address),
            "action": self.action,
            "status": self.status,
            "step": self.step,
            "error": self.error,
            "attempts": self.attempts,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class ApplyResult:
    target: str
    results: list[ChangeResult] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.status == SUCCEEDED for r in self.results)

    def counts(self) -> dict[str, int]:
        counts = {SUCCEEDED: 0, FAILED: 0, SKIPPED: 0}
        for result in self.results:
            counts[result.status] += 1
        return counts

    def to_dict(self) -> dict:
        return {"target": self.target, "ok": self.ok, "error": self.error, "summary": self.counts(),
                "results": [r.to_dict() for r in self.results]}


@dataclass
class _Step:
    change: Change
    kind: str  # "delete" | "create" | "update"
    waits_for: set[int]


class Executor:
    def __init__(
        self,
        provider: Provider,
        parallelism: int = 8,
        retry: RetryPolicy | None = None,
        progress: Callable[[ChangeResult], None] | None = None,
        interrupt: threading.Event | None = None,
    ):
        """`interrupt`: set from outside (Ctrl-C) to finish what is in flight and start nothing new."""
        self.provider = provider
        self.parallelism = max(1, min(parallelism, provider.capabilities().max_parallelism))
        self.retry = retry or RetryPolicy()
        self.progress = progress
        self.interrupt = interrupt or threading.Event()
        self._stop = threading.Event()

    def _stopped(self) -> bool:
        return self._stop.is_set() or self.interrupt.is_set()

    @gc_paused
    def run(self, plan: TargetPlan) -> ApplyResult:
        result = ApplyResult(plan.target)
        changes = [c for c in plan.changes if c.action in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)]
        steps = self._steps(changes)
        outcome: dict[int, ChangeResult] = {}
        deletes, creates, updates = ([i for i, s in enumerate(steps) if s.kind == kind]
                                     for kind in ("delete", "create", "update"))
        capabilities = self.provider.capabilities()
        bulk_creates = capabilities.bulk_create and len(creates) >= capabilities.bulk_threshold
        bulk_updates = capabilities.bulk_update and len(updates) >= capabilities.bulk_threshold
        self._run_phase(deletes, steps, outcome)
        if bulk_creates or bulk_updates:
            self._run_in_rounds([(creates, bulk_creates, "create", self.provider.apply_bulk),
                                 (updates, bulk_updates, "update", self.provider.apply_bulk_updates)],
                                steps, outcome)
        else:
            self._run_phase(creates + updates, steps, outcome)
        why = "not started: apply was interrupted" if self.interrupt.is_set() else "not started: an earlier change failed"
        for index, step in enumerate(steps):
            outcome.setdefault(index, ChangeResult(step.change.address, step.change.action.value, SKIPPED, step.kind, why))
        result.results = self._merge_per_change(changes, steps, outcome)
        return result

    # -- scheduling -------------------------------------------------------------
    def _steps(self, changes: list[Change]) -> list[_Step]:
        steps: list[_Step] = []
        delete_index: dict[Address, int] = {}
        upsert_index: dict[Address, int] = {}
        for change in reversed(changes):  # deletes: dependants before what they depend on
            if change.action in (Action.DELETE, Action.REPLACE):
                delete_index[change.address] = len(steps)
                steps.append(_Step(change, "delete", set()))
        for change in changes:
            if change.action in (Action.CREATE, Action.REPLACE, Action.UPDATE):
                upsert_index[change.address] = len(steps)
                kind = "update" if change.action is Action.UPDATE else "create"
                steps.append(_Step(change, kind, set()))
        dependants: dict[Address, list[Address]] = {}
        for change in changes:
            for dependency in change.depends_on:
                dependants.setdefault(dependency, []).append(change.address)
        for index, step in enumerate(steps):
            change = step.change
            if step.kind == "delete":
                step.waits_for = {delete_index[a] for a in dependants.get(change.address, ()) if a in delete_index}
                step.waits_for.discard(index)
            else:
                step.waits_for = {upsert_index[a] for a in change.depends_on if a in upsert_index}
                if change.address in delete_index:  # the create half of a replace follows its delete
                    step.waits_for.add(delete_index[change.address])
                step.waits_for.discard(index)
        return steps

    def _run_in_rounds(self, groups: list[tuple[list[int], bool, str, Callable]], steps: list[_Step],
                       outcome: dict[int, ChangeResult]) -> None:
        """Bulk and per-change paths interleaved so that dependencies hold across them: each round
        runs, kind by kind, every pending step whose dependencies have succeeded (or run in the same
        batch, where the batch orders them), until nothing more can start. A create waiting for an
        update (an ACL on a topic whose configs change) thus runs after it instead of being skipped."""
        while not self._stopped():
            finished = len(outcome)
            for indices, bulk, kind, call in groups:
                pending = [i for i in indices if i not in outcome]
                # a bulk update call does not order its changes: an update waiting for another goes next round
                batch = self._runnable(pending, steps, outcome, within=not (bulk and kind == "update"))
                if not batch or self._stopped():
                    continue
                if bulk and len(batch) >= self.provider.capabilities().bulk_threshold:
                    self._run_bulk(batch, steps, outcome, kind, call)
                else:
                    self._run_phase(batch, steps, outcome)
            if len(outcome) == finished:  # progress is what finished, not what was offered: a dependency
                break                     # cycle is offered every round and never starts
        if not self._stopped():
            left = {i for indices, *_ in groups for i in indices if i not in outcome}
            for i in sorted(left):
                cycle = all(w in left or outcome[w].status == SUCCEEDED for w in steps[i].waits_for if w in outcome
                            or w in left)
                why = ("not started: it waits for a change that waits for it (a dependency cycle)" if cycle
                       else "skipped: a change it depends on was not applied")
                outcome[i] = ChangeResult(steps[i].change.address, steps[i].change.action.value, SKIPPED,
                                          steps[i].kind, why)

    @staticmethod
    def _runnable(pending: list[int], steps: list[_Step], outcome: dict[int, ChangeResult], *,
                  within: bool) -> list[int]:
        """The pending steps whose every dependency has succeeded or (`within`) is itself runnable.
        Linear: blocked steps propagate to their dependants once (plans have 10,000s of steps)."""
        in_pending = set(pending)
        dependants: dict[int, list[int]] = {}
        blocked: list[int] = []
        for i in pending:
            for w in steps[i].waits_for:
                if w in outcome and outcome[w].status == SUCCEEDED:
                    continue
                if within and w in in_pending:
                    dependants.setdefault(w, []).append(i)
                else:
                    blocked.append(i)
        unrunnable: set[int] = set()
        while blocked:
            i = blocked.pop()
            if i not in unrunnable:
                unrunnable.add(i)
                blocked.extend(dependants.get(i, ()))
        return [i for i in pending if i not in unrunnable]

    def _run_phase(self, indices: list[int], steps: list[_Step], outcome: dict[int, ChangeResult]) -> None:
        """Kahn-style scheduling: a step starts when every step it waits for has succeeded."""
        in_phase = set(indices)
        remaining: dict[int, int] = {}
        dependants: dict[int, list[int]] = {}
        for i in indices:
            count = 0
            for w in steps[i].waits_for:
                if w in in_phase:
                    count += 1
                    dependants.setdefault(w, []).append(i)
                elif w not in outcome or outcome[w].status != SUCCEEDED:
                    count = -1  # waits for something that failed or will never run
                    break
            remaining[i] = count
        for i in indices:
            if remaining[i] < 0:
                self._skip_with_dependants(i, steps, outcome, dependants, "skipped: a change it depends on was not applied")
        ready = deque(i for i in sorted(indices) if remaining[i] == 0 and i not in outcome)
        running: dict[Future, int] = {}
        with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
            while ready or running:
                while ready and len(running) < self.parallelism and not self._stopped():
                    i = ready.popleft()
                    if i not in outcome:
                        running[pool.submit(self._execute, steps[i])] = i
                if not running:
                    return
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    index = running.pop(future)
                    outcome[index] = future.result()
                    if self.progress:
                        self.progress(outcome[index])
                    if outcome[index].status == SUCCEEDED:
                        for d in dependants.get(index, ()):
                            remaining[d] -= 1
                            if remaining[d] == 0:
                                ready.append(d)
                    else:
                        self._stop.set()
                        for d in dependants.get(index, ()):
                            self._skip_with_dependants(d, steps, outcome, dependants,
                                                       "skipped: a change it depends on failed")

    @staticmethod
    def _skip_with_dependants(index: int, steps: list[_Step], outcome: dict[int, ChangeResult],
                              dependants: dict[int, list[int]], reason: str) -> None:
        stack = [index]
        while stack:
            i = stack.pop()
            if i in outcome:
                continue
            outcome[i] = ChangeResult(steps[i].change.address, steps[i].change.action.value, SKIPPED, steps[i].kind, reason)
            stack.extend(dependants.get(i, ()))

    def _run_bulk(self, indices: list[int], steps: list[_Step], outcome: dict[int, ChangeResult], kind: str,
                  call: Callable[[list[Change]], dict[Address, str | None] | None]) -> None:
        """One provider call for many changes of a kind (their dependencies are met, or in the batch);
        per-address errors come back."""
        changes = [steps[i].change for i in indices]
        started = time.monotonic()
        try:
            errors = call(changes)
        except ProviderError as exc:
            errors = {c.address: str(exc) for c in changes}
        if errors is None:
            self._run_phase(indices, steps, outcome)
            return
        elapsed = (time.monotonic() - started) / max(len(indices), 1)
        for index in indices:
            change = steps[index].change
            error = errors.get(change.address)
            status = FAILED if error else SUCCEEDED
            outcome[index] = ChangeResult(change.address, change.action.value, status, kind,
                                          redact(error) if error else None, 1, elapsed)
            if error:
                self._stop.set()
            if self.progress:
                self.progress(outcome[index])

    def _execute(self, step: _Step) -> ChangeResult:
        change = step.change
        operation = change if step.kind != "delete" or change.action is Action.DELETE else _as_delete(change)
        if step.kind == "create" and change.action is Action.REPLACE:
            operation = _as_create(change)
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                self.provider.apply(operation)
                return ChangeResult(change.address, change.action.value, SUCCEEDED, step.kind, None, attempt,
                                    time.monotonic() - started)
            except ProviderError as exc:
                if exc.transient and attempt < self.retry.attempts and not self.interrupt.is_set():
                    self.retry.sleep(self.retry.delay(attempt, exc.retry_after))
                    continue
                return ChangeResult(change.address, change.action.value, FAILED, step.kind, redact(str(exc)), attempt,
                                    time.monotonic() - started)
            except Exception as exc:  # noqa: BLE001 - a provider bug is reported, not a traceback
                return ChangeResult(change.address, change.action.value, FAILED, step.kind,
                                    redact(f"{type(exc).__name__}: {exc}"), attempt, time.monotonic() - started)

    @staticmethod
    def _merge_per_change(changes: list[Change], steps: list[_Step], outcome: dict[int, ChangeResult]) -> list[ChangeResult]:
        """One result per change: a replace succeeded only if both its delete and create did."""
        by_address: dict[Address, ChangeResult] = {}
        for index, step in enumerate(steps):
            result = outcome[index]
            current = by_address.get(step.change.address)
            if current is None or (current.status == SUCCEEDED and result.status != SUCCEEDED):
                if current is not None:
                    result.attempts += current.attempts
                by_address[step.change.address] = result
            else:
                current.attempts += result.attempts
                current.seconds += result.seconds
                current.step = f"{current.step}+{result.step}"
        return [by_address[c.address] for c in changes]


def _as_delete(change: Change) -> Change:
    return Change(change.address, Action.DELETE, change.reason, change.attributes, None, change.live,
                  change.destructive, change.messages, change.depends_on, note="delete half of a replace")


def _as_create(change: Change) -> Change:
    return Change(change.address, Action.CREATE, change.reason, change.attributes, change.desired, None,
                  depends_on=change.depends_on, note="create half of a replace")
