"""Human output: findings grouped by file, each with its source line and a caret."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from brokerform.lint.output.paths import display_path, printable


def _source_lines(file: str) -> list[str]:
    try:
        return Path(file).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def render(result, **_: object) -> str:
    by_file: dict[str, list] = defaultdict(list)
    for finding in result.findings:
        by_file[finding.file].append(finding)
    out: list[str] = []
    for file in sorted(by_file):
        lines = _source_lines(file)
        out.append(display_path(file))
        for f in by_file[file]:
            suffix = f"  [{printable(f.resource)}]" if f.resource else ""
            out.append(f"  {f.line}:{f.column}  {f.severity:<7}  {f.rule_id}  {printable(f.message)}{suffix}")
            if 0 < f.line <= len(lines):
                text = lines[f.line - 1].rstrip()
                gutter = f"{f.line:>6} | "
                out.append(f"{gutter}{text}")
                out.append(" " * (len(gutter) - 2) + "| " + " " * max(f.column - 1, 0) + "^")
        out.append("")
    out.append(summary(result))
    return "\n".join(out) + "\n"


def summary(result) -> str:
    total = len(result.findings)
    parts = f"{result.count('error')} error(s), {result.count('warning')} warning(s), {result.count('info')} info"
    suppressed = f", {len(result.suppressed)} suppressed" if result.suppressed else ""
    if total == 0:
        return f"no findings ({len(result.rules)} rules checked{suppressed})"
    return f"{total} finding(s): {parts}{suppressed}"
