"""Kafka benchmark: brokerform plan/apply at 1,000 and 5,000 topics against raw AdminClient floors.

Run with the local broker up (`scripts/services up kafka`):

    eval "$(scripts/services env kafka)"; python bench/kafka.py --topics 1000 5000

Each size: N topics (1 partition, 2 configs) and N ACLs. Measured in one process through the
CLI with its default (text) output, in order:
plan from empty, apply from empty, plan with no changes, apply of a 1% config change; then the
raw create floor under another prefix: batched create_topics (chunked like the provider, below
the controller's per-request record limit) + one batched create_acls. The no-change plan and its
raw floor (list_topics + one batched describe_configs of the same topics) run REPEATS times,
interleaved, and their medians are compared. Everything the run created is deleted at the end.
Writes a Markdown table and JSON into bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 5  # the no-change plan and the raw read are each measured this often, interleaved


def connection() -> dict:
    return {
        "bootstrap.servers": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
        "security.protocol": os.environ.get("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
        "sasl.mechanism": os.environ.get("KAFKA_SASL_MECHANISM", "PLAIN"),
        "sasl.username": os.environ.get("KAFKA_SASL_USERNAME", "admin"),
        "sasl.password": os.environ.get("KAFKA_SASL_PASSWORD", "admin-secret"),
    }


def manifest_text(prefix: str, count: int, changed: int = 0) -> str:
    lines = [
        "brokerform: 1",
        "targets:",
        "  bench:",
        "    type: kafka",
        "    bootstrap_servers: ${env:KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:19092}",
        "    security_protocol: SASL_PLAINTEXT",
        "    sasl: {mechanism: PLAIN, username: admin, password: \"${env:KAFKA_SASL_PASSWORD:-admin-secret}\"}",
        f"    scope: {{topic_prefixes: [\"{prefix}\"]}}",
        "    topics:",
    ]
    for i in range(count):
        retention = "2d" if i < changed else "1d"
        lines.append(f"      {prefix}t{i:05d}: {{partitions: 1, replication_factor: 1, "
                     f"configs: {{retention.ms: {retention}, cleanup.policy: delete}}}}")
    lines.append("    acls:")
    for i in range(count):
        lines.append(f"      - {{principal: \"User:bench-reader\", operation: READ, resource_name: \"{prefix}t{i:05d}\"}}")
    return "\n".join(lines) + "\n"


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def cli(*args: str) -> int:
    from brokerform.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    if result.exit_code not in (0, 2):
        print(result.output[-2000:], file=sys.stderr)
        raise SystemExit(f"brokerform {' '.join(args[:1])} failed with exit {result.exit_code}")
    return result.exit_code


def raw_floors(admin, prefix: str, count: int) -> dict[str, float]:
    from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, NewTopic, ResourcePatternType,
                                       ResourceType)

    from brokerform.providers.kafka.provider import MAX_RECORDS_PER_REQUEST

    names = [f"{prefix}t{i:05d}" for i in range(count)]
    per_chunk = MAX_RECORDS_PER_REQUEST // 4  # topic + 1 partition + 2 configs

    def create_topics():
        for start in range(0, count, per_chunk):
            topics = [NewTopic(n, 1, 1, config={"retention.ms": "86400000", "cleanup.policy": "delete"})
                      for n in names[start:start + per_chunk]]
            for future in admin.create_topics(topics, operation_timeout=120, request_timeout=120).values():
                future.result()

    def create_acls():
        bindings = [AclBinding(ResourceType.TOPIC, n, ResourcePatternType.LITERAL, "User:bench-reader", "*",
                               AclOperation.READ, AclPermissionType.ALLOW) for n in names]
        for start in range(0, count, 1000):
            for future in admin.create_acls(bindings[start:start + 1000], request_timeout=120).values():
                future.result()

    def until_listed():
        wanted = set(names)
        while not wanted <= set(admin.list_topics(timeout=60).topics):
            time.sleep(0.2)

    create_s, _ = timed(create_topics)
    visible_s, _ = timed(until_listed)
    acls_s, _ = timed(create_acls)
    return {"raw_create_topics_s": create_s, "raw_topics_visible_after_s": visible_s, "raw_create_acls_s": acls_s}


def raw_read(admin, prefix: str, count: int) -> dict:
    """The floor of a no-change plan: list the topics, then one batched describe_configs."""
    from confluent_kafka.admin import ConfigResource, ResourceType

    metadata = admin.list_topics(timeout=60)
    ours = [n for n in metadata.topics if n.startswith(prefix)]
    futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, n) for n in ours], request_timeout=120)
    configs = {r.name: f.result() for r, f in futures.items()}
    assert len(configs) == count, f"raw read saw {len(configs)} of {count} topics"
    return configs


def cleanup(admin, prefixes: list[str]) -> None:
    from confluent_kafka.admin import (AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)

    topics = [t for t in admin.list_topics(timeout=60).topics if any(t.startswith(p) for p in prefixes)]
    for start in range(0, len(topics), 1000):
        for future in admin.delete_topics(topics[start:start + 1000], operation_timeout=120).values():
            future.result()
    acl_filter = AclBindingFilter(ResourceType.TOPIC, None, ResourcePatternType.ANY, "User:bench-reader", None,
                                  AclOperation.ANY, AclPermissionType.ANY)
    for future in admin.delete_acls([acl_filter], request_timeout=120).values():
        future.result()


def run_size(admin, count: int, workdir: Path) -> dict:
    run = uuid.uuid4().hex[:6]
    prefix, raw_prefix = f"bench-{run}.", f"bench-raw-{run}."
    manifest = workdir / f"bench-{count}.yaml"
    manifest.write_text(manifest_text(prefix, count))
    result: dict = {"topics": count, "acls": count}
    try:
        result["plan_from_empty_s"], _ = timed(lambda: cli("plan", str(manifest)))
        result["apply_from_empty_s"], _ = timed(lambda: cli("apply", str(manifest), "--auto-approve"))
        plans, reads = [], []  # the no-change plan and the raw read of the same topics, interleaved
        for _ in range(REPEATS):
            seconds, code = timed(lambda: cli("plan", str(manifest), "--detailed-exitcode"))
            assert code == 0, "the re-plan after apply is not clean"
            plans.append(seconds)
            reads.append(timed(lambda: raw_read(admin, prefix, count))[0])
        result["plan_no_changes_s"], result["raw_read_s"] = statistics.median(plans), statistics.median(reads)
        result["plan_no_changes_samples"] = [round(x, 3) for x in plans]
        result["raw_read_samples"] = [round(x, 3) for x in reads]
        manifest.write_text(manifest_text(prefix, count, changed=max(1, count // 100)))
        result["apply_1pct_change_s"], _ = timed(lambda: cli("apply", str(manifest), "--auto-approve"))
        result.update(raw_floors(admin, raw_prefix, count))
    finally:
        cleanup(admin, [prefix, raw_prefix])
    result["plan_vs_raw_read"] = result["plan_no_changes_s"] / result["raw_read_s"]
    raw_create = result["raw_create_topics_s"] + result["raw_create_acls_s"]
    result["apply_vs_raw_create"] = result["apply_from_empty_s"] / raw_create
    return result


def markdown(results: list[dict], meta: dict) -> str:
    rows = [
        "| topics + ACLs | plan from empty | apply from empty | plan, no changes | apply 1% change | raw create (topics + ACLs) | raw: topics listed by the broker after | raw read (list + describe_configs) | no-change plan / raw read (target <= 1.5) | apply / raw create (target <= 1.3) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| {r['topics']:,} + {r['acls']:,} | {r['plan_from_empty_s']:.2f} s | {r['apply_from_empty_s']:.2f} s | "
            f"{r['plan_no_changes_s']:.2f} s | {r['apply_1pct_change_s']:.2f} s | "
            f"{r['raw_create_topics_s']:.2f} + {r['raw_create_acls_s']:.2f} s | +{r['raw_topics_visible_after_s']:.2f} s | "
            f"{r['raw_read_s']:.2f} s | "
            f"{r['plan_vs_raw_read']:.2f}x | {r['apply_vs_raw_create']:.2f}x |")
    return (f"Kafka {meta['kafka']}, single KRaft node on {meta['machine']}; 1 partition per topic; "
            f"brokerform in-process (CLI via click's runner, text output).\n\n" + "\n".join(rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(connection())
    meta = {"kafka": os.environ.get("BROKERFORM_KAFKA_VERSION", "4.1.1"),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}", "python": platform.python_version()}
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for count in args.topics:
            print(f"kafka bench: {count} topics ...", file=sys.stderr)
            results.append(run_size(admin, count, Path(workdir)))
            print(json.dumps(results[-1]), file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "kafka.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    table = markdown(results, meta)
    (args.out / "kafka.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
