"""Benchmark the RabbitMQ provider against the local broker (not a test; run by hand).

    eval "$(scripts/services env rabbitmq)"
    python bench/rabbitmq.py --sizes 1000 10000

For each size N it generates a manifest of N classic queues, N/10 topic exchanges, N
bindings and a few policies, then measures in a fresh vhost: validate, plan from empty,
apply from empty, plan with no changes, apply of a 1% change (1% of the queues get a new
max-length: a replace of the queue and its binding). Beside it, in the same run, the raw
floors: one `GET /api/definitions/{vhost}` + JSON parse, and one `POST
/api/definitions/{vhost}` of the same objects into another fresh vhost. Each size runs in
its own process so peak memory (max RSS) is per size.

Prints a Markdown table and writes JSON to bench/results/rabbitmq-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
TARGETS = {"noop_plan_vs_raw_read": 1.5, "apply_vs_raw_post": 1.3, "peak_rss_mb_at_10000": 300}
REPEATS = 9  # the no-change plan and the raw read are each measured this often, interleaved


def manifest_text(vhost: str, size: int, changed: int = 0) -> str:
    """A native topology: exchanges ev.NNN (topic), queues q.NNNNN bound with a routing key each."""
    exchanges = max(1, size // 10)
    lines = [
        "brokerform: 1",
        "targets:",
        "  bench:",
        "    type: rabbitmq",
        "    url: ${env:RABBITMQ_URL}",
        "    amqp_url: ${env:RABBITMQ_AMQP_URL}",
        "    username: ${env:RABBITMQ_USERNAME}",
        "    password: ${env:RABBITMQ_PASSWORD}",
        "    scope:",
        f"      vhost: {vhost}",
        "    exchanges:",
    ]
    lines += [f"      ev.{e:04d}: {{type: topic}}" for e in range(exchanges)]
    lines.append("    queues:")
    for q in range(size):
        limit = 20_000 if q < changed else 10_000
        lines.append(f"      q.{q:05d}: {{type: classic, message_ttl: 1d, max_length: {limit}}}")
    lines.append("    bindings:")
    for q in range(size):
        lines.append(f"      - {{source: ev.{q % exchanges:04d}, destination: q.{q:05d}, routing_key: \"k.{q}.#\"}}")
    lines += ["    policies:"]
    lines += [f"      p{p}: {{pattern: \"^q\\\\.{p}\", definition: {{max-length-bytes: 1000000}}}}" for p in range(5)]
    return "\n".join(lines) + "\n"


class Admin:
    def __init__(self):
        import httpx

        self.http = httpx.Client(base_url=os.environ["RABBITMQ_URL"], timeout=900,
                                 auth=(os.environ["RABBITMQ_USERNAME"], os.environ["RABBITMQ_PASSWORD"]))

    def vhost(self, name: str, create: bool = True) -> None:
        path = f"/api/vhosts/{quote(name, safe='')}"
        (self.http.put(path, json={}) if create else self.http.delete(path))


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def run_size(size: int) -> dict:
    """All measurements of one size (run in a child process)."""
    from brokerform.apply.executor import Executor
    from brokerform.compile import compile_manifest
    from brokerform.manifest.loader import load_manifest
    from brokerform.plan.engine import build_plan, plan_manifest
    from brokerform.plan.model import PlanOptions

    tag = uuid.uuid4().hex[:6]
    vhost, raw_vhost = f"bench-{size}-{tag}", f"bench-raw-{size}-{tag}"
    admin = Admin()
    folder = Path(tempfile.mkdtemp(prefix="bf-bench-"))
    path = folder / "manifest.yaml"
    path.write_text(manifest_text(vhost, size))
    results: dict[str, float | int | str | list] = {"size": size}

    def plan(options=PlanOptions()):  # what `brokerform plan` runs: early read + load + compile + diff
        return plan_manifest(path, None, None, options)

    def apply(options=PlanOptions()):
        session = build_plan(load_manifest(path), options, lock_owner="bench", lock_timeout=30)
        try:
            target = session.plan.targets[0]
            assert target.error is None, target.error
            result = Executor(session.providers["bench"], 8).run(target)
            assert result.ok, [r.error for r in result.results if r.error][:3]
            return target
        finally:
            session.close()

    warm = folder / "warm.yaml"  # import the models and providers before anything is timed
    warm.write_text(manifest_text(vhost, 1))
    compile_manifest(load_manifest(warm))
    try:
        results["validate_s"], _ = timed(lambda: compile_manifest(load_manifest(path)))
        results["plan_from_empty_s"], session = timed(plan)
        results["plan_from_empty_changes"] = len(session.plan.targets[0].pending)
        session.close()
        results["apply_from_empty_s"], _ = timed(apply)
        # the no-change plan and its raw floor, interleaved and repeated: medians of REPEATS runs each
        v = quote(vhost, safe="")

        def raw_read():
            return json.loads(admin.http.get(f"/api/definitions/{v}").content)

        plans, reads = [], []
        for _ in range(REPEATS):
            seconds, session = timed(plan)
            assert not session.plan.has_changes, "re-plan after apply shows changes"
            session.close()
            plans.append(seconds)
            reads.append(timed(raw_read)[0])
        results["plan_no_changes_s"] = statistics.median(plans)
        results["raw_get_definitions_s"] = statistics.median(reads)
        results["plan_no_changes_samples"] = [round(x, 3) for x in plans]
        results["raw_get_definitions_samples"] = [round(x, 3) for x in reads]
        session = build_plan(load_manifest(path), PlanOptions())
        results["provider_read_s"], _ = timed(session.providers["bench"].read)  # the provider's share
        session.close()
        changed = max(1, size // 100)
        path.write_text(manifest_text(vhost, size, changed=changed))
        results["apply_1pct_s"], target = timed(lambda: apply(PlanOptions(allow_replace=True)))
        results["apply_1pct_changes"] = len(target.pending)

        # raw bulk-create floor, same run
        definitions = raw_read()
        body = {k: definitions[k] for k in ("exchanges", "queues", "bindings", "policies")}
        admin.vhost(raw_vhost)
        results["raw_post_definitions_s"], response = timed(
            lambda: admin.http.post(f"/api/definitions/{quote(raw_vhost, safe='')}", json=body))
        response.raise_for_status()
    finally:
        admin.vhost(vhost, create=False)
        admin.vhost(raw_vhost, create=False)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    results["noop_plan_vs_raw_read"] = round(results["plan_no_changes_s"] / results["raw_get_definitions_s"], 2)
    results["provider_read_vs_raw_read"] = round(results["provider_read_s"] / results["raw_get_definitions_s"], 2)
    results["apply_vs_raw_post"] = round(results["apply_from_empty_s"] / results["raw_post_definitions_s"], 2)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}


def markdown(rows: list[dict]) -> str:
    columns = [("size", "queues"), ("validate_s", "validate"), ("plan_from_empty_s", "plan (empty)"),
               ("apply_from_empty_s", "apply (empty)"), ("plan_no_changes_s", "plan (no changes)"),
               ("apply_1pct_s", "apply 1% change"), ("raw_get_definitions_s", "raw GET definitions"),
               ("raw_post_definitions_s", "raw POST definitions"), ("provider_read_s", "provider read()"),
               ("noop_plan_vs_raw_read", "no-change plan / raw read"),
               ("provider_read_vs_raw_read", "read() / raw read"),
               ("apply_vs_raw_post", "apply / raw POST"), ("peak_rss_mb", "peak RSS MB")]
    lines = ["| " + " | ".join(title for _, title in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(key, "")) for key, _ in columns) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    for name in ("RABBITMQ_URL", "RABBITMQ_USERNAME", "RABBITMQ_PASSWORD", "RABBITMQ_AMQP_URL"):
        if name not in os.environ:
            print(f'{name} is not set: eval "$(scripts/services env rabbitmq)"', file=sys.stderr)
            return 1
    if args.child:
        print(json.dumps(run_size(args.child)))
        return 0
    rows = []
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(size)], capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"size {size}: done", file=sys.stderr)
    table = markdown(rows)
    print(table)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"rabbitmq-{stamp}.json").write_text(json.dumps(
        {"created_at": stamp, "cpu_count": os.cpu_count(), "targets": TARGETS, "results": rows}, indent=2) + "\n")
    print(f"\nwrote bench/results/rabbitmq-{stamp}.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
