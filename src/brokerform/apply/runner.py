"""The apply command's flow: lock, plan (or verify a saved plan), confirm, execute, audit."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from brokerform.apply.audit import append_audit, current_user, git_commit
from brokerform.apply.executor import ApplyResult, ChangeResult, Executor
from brokerform.errors import EXIT_ERROR, EXIT_OK, BrokerformError
from brokerform.plan.model import Action, Plan, PlanOptions, TargetPlan
from brokerform.secrets import dumps_redacted, redact, redact_name

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report an interrupted command


def _load_saved(plan_file: Path) -> Plan:
    try:
        data = json.loads(plan_file.read_text(encoding="utf-8"))
        problem = _plan_shape_problem(data)
        if problem:
            raise BrokerformError(f"{plan_file}: not a brokerform plan file: {problem}")
        return Plan.from_dict(data)
    except OSError as exc:
        raise BrokerformError(f"{plan_file}: cannot read the saved plan: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise BrokerformError(f"{plan_file}: not a brokerform plan file: {exc}") from None


_JSON_TYPES = {dict: "an object", list: "a list", str: "a string", bool: "true or false", type(None): "null"}


def _plan_shape_problem(data: Any) -> str | None:
    """Where a saved plan's structure differs from what `plan --out` writes (an edited or foreign
    file), named by field: its fields decide what apply does, so none may be guessed."""
    def wrong(path: str, value: Any, *expected: type) -> str | None:
        if isinstance(value, expected) and not (bool not in expected and isinstance(value, bool)):
            return None
        wanted = " or ".join(_JSON_TYPES[e] for e in expected)
        return f"{path}: expected {wanted}, got {_JSON_TYPES.get(type(value), type(value).__name__)}"

    if problem := wrong("the file", data, dict):
        return problem.replace("the file: ", "")
    manifest, options, targets = data.get("manifest"), data.get("options"), data.get("targets")
    checks = [wrong("manifest", manifest, dict), wrong("options", options, dict), wrong("targets", targets, list)]
    if isinstance(manifest, dict):
        checks += [wrong("manifest.path", manifest.get("path"), str),
                   wrong("manifest.environment", manifest.get("environment"), str, type(None)),
                   wrong("manifest.variables", manifest.get("variables", {}), dict)]
        if isinstance(manifest.get("variables"), dict):
            checks += [wrong(f"manifest.variables.{k}", v, str) for k, v in manifest["variables"].items()]
    if isinstance(options, dict):
        checks += [wrong(f"options.{k}", options.get(k, False), bool) for k in ("allow_replace", "allow_data_loss", "prune")]
    if isinstance(targets, list):
        if not targets:
            checks.append("targets: the plan covers no target")
        names = [target.get("target") for target in targets if isinstance(target, dict)]
        checks += [f"targets: target {name!r} is listed twice" for name in sorted({n for n in names
                   if isinstance(n, str) and names.count(n) > 1})]
        for i, target in enumerate(targets):
            checks.append(wrong(f"targets[{i}]", target, dict))
            if isinstance(target, dict):
                checks += [wrong(f"targets[{i}].target", target.get("target"), str),
                           wrong(f"targets[{i}].type", target.get("type"), str),
                           wrong(f"targets[{i}].changes", target.get("changes", []), list)]
                if isinstance(target.get("changes"), list):
                    for j, change in enumerate(target["changes"]):
                        checks += _change_shape_problems(f"targets[{i}].changes[{j}]", change, wrong)
    return next((c for c in checks if c), None)


def _change_shape_problems(path: str, change: Any, wrong: Callable[..., str | None]) -> list[str | None]:
    if not isinstance(change, dict):
        return [wrong(path, change, dict)]
    checks = [wrong(f"{path}.action", change.get("action"), str), wrong(f"{path}.reason", change.get("reason"), str),
              wrong(f"{path}.attributes", change.get("attributes", []), list),
              wrong(f"{path}.depends_on", change.get("depends_on", []), list)]
    checks += _address_problems(f"{path}.address", change.get("address"), wrong)
    for j, attribute in enumerate(change.get("attributes") or [] if isinstance(change.get("attributes"), list) else []):
        checks.append(wrong(f"{path}.attributes[{j}]", attribute, dict) or
                      wrong(f"{path}.attributes[{j}].path", attribute.get("path"), str))
    for j, address in enumerate(change.get("depends_on") or [] if isinstance(change.get("depends_on"), list) else []):
        checks += _address_problems(f"{path}.depends_on[{j}]", address, wrong)
    for side in ("desired", "live"):
        resource = change.get(side)
        if resource is None:
            continue
        if not isinstance(resource, dict):
            checks.append(wrong(f"{path}.{side}", resource, dict, type(None)))
            continue
        checks += _address_problems(f"{path}.{side}.address", resource.get("address"), wrong)
        checks += [wrong(f"{path}.{side}.properties", resource.get("properties", {}), dict),
                   wrong(f"{path}.{side}.depends_on", resource.get("depends_on", []), list),
                   wrong(f"{path}.{side}.source", resource.get("source", []), list)]
    return checks


def _address_problems(path: str, address: Any, wrong: Callable[..., str | None]) -> list[str | None]:
    if not isinstance(address, dict):
        return [wrong(path, address, dict)]
    return [wrong(f"{path}.{key}", address.get(key), str) for key in ("target", "kind", "name")] + \
        [wrong(f"{path}.scope", address.get("scope", ""), str)]


def _pending(target: TargetPlan) -> list[tuple[str, str, str]]:
    """What a reviewer read for each change: its address, action and every attribute before -> after."""
    # as the file holds them: redacted (redaction is idempotent, so a saved plan compares equal)
    return sorted((redact_name(str(c.address)), c.action.value,
                   json.dumps(redact([a.to_dict() for a in c.attributes]), sort_keys=True, default=str))
                  for c in target.changes if c.action is not Action.NOOP)


def stale_reasons(saved: Plan, fresh: Plan) -> list[str]:
    """Why a saved plan no longer describes what apply would do."""
    reasons = []
    if saved.manifest_fingerprint != fresh.manifest_fingerprint:
        reasons.append("the manifest changed since the plan was made")
    fresh_targets = {t.target: t for t in fresh.targets}
    for target in saved.targets:
        now = fresh_targets.get(target.target)
        if now is None:
            reasons.append(f"target {target.target} is no longer in the manifest")
        elif now.error:
            reasons.append(f"target {target.target}: {now.error}")
        elif target.live_fingerprint != now.live_fingerprint:
            reasons.append(f"the live state of target {target.target} changed since the plan was made")
        elif _pending(target) != _pending(now):  # an edited file: apply only what was reviewed
            reasons.append(f"the changes of target {target.target} in the file are not the ones planned "
                           "(was the file edited?)")
    planned = {t.target for t in saved.targets}
    reasons += [f"target {t.target} is not in the saved plan" for t in fresh.targets if t.target not in planned]
    return reasons


def run_apply(
    *,
    path: Path | None,
    plan_file: Path | None,
    environment: str | None,
    variables: dict[str, Any],
    targets: list[str] | None,
    options: PlanOptions,
    auto_approve: bool,
    parallelism: int | None,
    output: str,
    audit_log: Path | None,
    lock_timeout: float | None,
) -> int:
    saved = _load_saved(plan_file) if plan_file else None
    if saved is not None:
        if path is None:
            path = Path(saved.manifest_path)
            if not path.exists():
                raise BrokerformError(f"{plan_file}: the manifest it was made from, {path}, does not exist here "
                                      "(a saved plan names it relative to where plan ran: apply from there, "
                                      "or give the manifest PATH too)")
        environment = saved.environment
        variables = saved.variables
        options = PlanOptions(
            options.allow_replace or saved.options.allow_replace,
            options.allow_data_loss or saved.options.allow_data_loss,
            options.prune or saved.options.prune,
        )
        targets = targets or [t.target for t in saved.targets]
        auto_approve = True  # a saved plan was reviewed already
    if path is None:
        raise BrokerformError("give a manifest PATH or --plan FILE")
    interrupts = _Interrupts()
    with interrupts.installed():
        try:
            return _plan_and_apply(path, saved, environment, variables, targets, options, auto_approve, parallelism,
                                   output, audit_log, lock_timeout, interrupts)
        except KeyboardInterrupt:
            click.echo("Interrupted before any change was applied.", err=True)
            return EXIT_INTERRUPTED


def _plan_and_apply(path: Path, saved: Plan | None, environment: str | None, variables: dict[str, Any],
                    targets: list[str] | None, options: PlanOptions, auto_approve: bool, parallelism: int | None,
                    output: str, audit_log: Path | None, lock_timeout: float | None, interrupts: "_Interrupts") -> int:
    from brokerform.commands.common import stdout_console
    from brokerform.manifest.loader import load_manifest
    from brokerform.output.plan_text import render_plan
    from brokerform.plan.engine import build_plan

    loaded = load_manifest(path, environment, variables)
    settings = loaded.manifest.settings
    owner = f"{current_user()}@{socket.gethostname()} pid {os.getpid()}"
    timeout = lock_timeout if lock_timeout is not None else settings.lock_timeout / 1000
    session = build_plan(loaded, options, targets, manifest_path=str(path), variables=variables,
                         lock_owner=owner, lock_timeout=timeout)
    try:
        plan = session.plan
        console = stdout_console()
        if saved is not None:
            reasons = stale_reasons(saved, plan)
            if reasons:
                raise BrokerformError("the saved plan is stale, nothing was applied: " + "; ".join(reasons)
                                      + ". Run plan again.")
        if output == "text":
            render_plan(plan, console)
        if plan.has_errors:
            _print(output, {"applied": False, "reason": "plan has errors or blocked changes"},
                   "Nothing was applied: the plan has errors or blocked changes (see above).")
            return EXIT_ERROR
        refused = [c for t in plan.targets for c in t.refused]
        if refused:
            _print(output, {"applied": False, "reason": "refused changes", "refused": [str(c.address) for c in refused]},
                   "Nothing was applied: some changes need --allow-replace or --allow-data-loss (see above).")
            return EXIT_ERROR
        if not plan.has_changes:
            _print(output, {"applied": True, "changes": 0}, "Apply complete. Nothing to do.")
            return EXIT_OK
        if not auto_approve:
            if not sys.stdin.isatty():
                raise BrokerformError("apply needs confirmation: run it in a terminal or pass --auto-approve")
            if not click.confirm("Apply these changes?", default=False):
                click.echo("Apply cancelled. Nothing was changed.")
                return EXIT_ERROR
        plan.settle_fingerprints()  # the audit records the state the changes were planned against
        with interrupts.executing():
            results = _execute(session, plan, parallelism or settings.parallelism, output, interrupts.requested)
        interrupted = interrupts.requested.is_set()
        _audit(loaded, plan, results, audit_log, settings.audit_log, interrupted)
        _report(results, output, interrupted)
        if interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if all(r.ok for r in results) else EXIT_ERROR
    finally:
        session.close()


class _Interrupts:
    """Ctrl-C and SIGTERM (what CI sends on cancel) during apply.

    Before the first change starts, either one stops the command: nothing was applied. While
    changes run, the first lets the changes in flight finish and starts no new ones, so the
    report says exactly what was applied; the second stops at once, like Terraform's. Once the
    changes are done, the report and audit record are written first."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self._phase = "before"  # -> "executing" -> "after"

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextlib.contextmanager
    def executing(self) -> Iterator[None]:
        self._phase = "executing"
        try:
            yield
        finally:
            self._phase = "after"

    def _handle(self, signum: int, frame: Any) -> None:
        if self._phase == "before":
            raise KeyboardInterrupt
        if self._phase == "after":  # everything has finished: say what happened, then stop
            self.requested.set()
            return
        if self.requested.is_set():
            sys.stdout.flush()
            sys.stderr.write("\nSecond interrupt: stopped at once. Changes in flight may or may not have been "
                             "applied; run plan to see the live state (a broker-side apply lock is released when "
                             "its lease ends).\n")
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        self.requested.set()
        sys.stderr.write("\nInterrupted: finishing the changes in flight and starting no new ones "
                         "(interrupt again to stop at once).\n")
        sys.stderr.flush()


def _execute(session, plan: Plan, parallelism: int, output: str,
             interrupted: threading.Event | None = None) -> list[ApplyResult]:
    pending = [t for t in plan.targets if t.pending]
    total = sum(2 if c.action is Action.REPLACE else 1 for t in pending for c in t.pending)  # a replace is two steps
    interactive = output == "text" and sys.stdout.isatty() and not os.environ.get("CI")
    progress = None
    task = None
    if interactive:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        progress = Progress(TextColumn("applying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        task = progress.add_task("apply", total=total)
    heartbeat = _Heartbeat(total) if output == "text" and not interactive else None

    def tick(_: ChangeResult) -> None:
        if progress is not None and task is not None:
            progress.advance(task)
        if heartbeat is not None:
            heartbeat.tick()

    def run_one(target_plan) -> ApplyResult:
        provider = session.providers[target_plan.target]
        try:
            return Executor(provider, parallelism, progress=tick, interrupt=interrupted).run(target_plan)
        except BrokerformError as exc:
            return ApplyResult(target_plan.target, error=redact(str(exc)))
        except Exception as exc:  # noqa: BLE001
            return ApplyResult(target_plan.target, error=redact(f"{type(exc).__name__}: {exc}"))

    if progress is not None:
        progress.start()
    try:
        with heartbeat or contextlib.nullcontext(), \
                concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(8, len(pending)))) as pool:
            return list(pool.map(run_one, pending))
    finally:
        if progress is not None:
            progress.stop()


HEARTBEAT_S = 10.0


class _Heartbeat:
    """Without a terminal (CI), a line every HEARTBEAT_S while changes run, like Terraform's
    "Still creating...": a 10,000-queue import into RabbitMQ is one request of half a minute."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="brokerform-heartbeat", daemon=True)

    def tick(self) -> None:
        with self._lock:
            self.done += 1

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            elapsed = time.monotonic() - self._started
            click.echo(f"Still applying... {min(self.done, self.total)} of {self.total} step(s) finished "
                       f"[{elapsed:.0f}s elapsed]")

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def _audit(loaded, plan: Plan, results: list[ApplyResult], cli_path: Path | None, setting: str | None,
           interrupted: bool = False) -> None:
    path = cli_path or (Path(os.environ["BROKERFORM_AUDIT_LOG"]) if os.environ.get("BROKERFORM_AUDIT_LOG") else None)
    if path is None:
        path = Path(setting) if setting else Path(".brokerform") / "audit.jsonl"
        if not path.is_absolute():
            path = loaded.base_dir / path
    commit = git_commit(loaded.base_dir)
    by_target = {t.target: t for t in plan.targets}
    for result in results:
        target_plan = by_target[result.target]
        try:
            append_audit(path, {
                "user": current_user(),
                "git_commit": commit,
                "manifest": plan.manifest_path,
                "environment": plan.environment,
                "target": result.target,
                "plan_fingerprint": plan.manifest_fingerprint,
                "live_fingerprint": target_plan.live_fingerprint,
                "summary": target_plan.counts(),
                "ok": result.ok,
                "interrupted": interrupted,
                "error": result.error,
                "results": [r.to_dict() for r in result.results],
            })
        except OSError as exc:
            click.echo(f"warning: cannot write the audit log {path}: {exc}", err=True)


def _report(results: list[ApplyResult], output: str, interrupted: bool = False) -> None:
    if output == "json":
        click.echo(dumps_redacted({"applied": True, "interrupted": interrupted, "targets": [r.to_dict() for r in results]},
                                  separators=(",", ":")))
        return
    for result in results:
        counts = result.counts()
        if result.error:
            click.echo(f"{result.target}: error: {result.error}")
        click.echo(
            f"{result.target}: {counts['succeeded']} succeeded, {counts['failed']} failed, {counts['skipped']} skipped."
        )
        for r in result.results:
            if r.status != "succeeded":
                click.echo(f"  {r.status}: {r.action} {r.address}" + (f": {r.error}" if r.error else ""))
    if interrupted:
        unstarted = sum(r.counts()["skipped"] for r in results)
        click.echo(f"Apply interrupted: {unstarted} change(s) listed above as skipped were not started. "
                   "Re-run apply to converge." if unstarted else
                   "Apply interrupted after the last changes had started: every change finished (see above).")
    elif all(r.ok for r in results):
        click.echo("Apply complete.")
    else:
        click.echo("Apply finished with failures: the changes listed above were not applied. Re-run apply to converge.")


def _print(output: str, data: dict, text: str) -> None:
    if output == "json":
        click.echo(json.dumps(data))
    else:
        click.echo(text)
