"""Property: whatever random mutation is made to an example, the loader answers with
located problems (ManifestError) or a valid manifest, never another exception."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brokerform.compile import compile_manifest
from brokerform.errors import ManifestError
from brokerform.manifest.loader import load_manifest, load_raw

ROOT = Path(__file__).resolve().parents[1]
SEED_FILES = [ROOT / "examples" / "rabbitmq-orders" / "manifest.yaml"]
SEED_DIRS = sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())
# Every example, rendered and merged (templates resolved), as data to mutate.
SEEDS = [(folder.name, load_raw(folder)[0]) for folder in SEED_DIRS]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
    st.text(max_size=20), st.sampled_from(["7d", "-1s", "256KiB", "${env:NOPE}", "quorum", "pubsub", "{{ x }}"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, prefix + (index,))


def _set(data, path, value):
    if not path:
        return value
    parent = data
    for element in path[:-1]:
        parent = parent[element]
    parent[path[-1]] = value
    return data


def _delete(data, path):
    if not path:
        return data
    parent = data
    for element in path[:-1]:
        parent = parent[element]
    del parent[path[-1]]
    return data


@st.composite
def mutated_manifest(draw):
    name, seed = draw(st.sampled_from(SEEDS))
    data = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(data))
        path = draw(st.sampled_from(paths))
        operation = draw(st.sampled_from(["replace", "delete", "rename", "insert"]))
        if operation == "replace":
            data = _set(data, path, draw(values))
        elif operation == "delete" and path:
            data = _delete(data, path)
        elif operation == "rename" and path and isinstance(path[-1], str):
            parent = data
            for element in path[:-1]:
                parent = parent[element]
            parent[path[-1] + draw(st.text(min_size=1, max_size=3))] = parent.pop(path[-1])
        elif operation == "insert":
            target = data
            for element in path:
                target = target[element]
            if isinstance(target, dict):
                target[draw(st.text(max_size=10))] = draw(values)
    return name, data


def _assert_clean_outcome(path: Path) -> None:
    try:
        loaded = load_manifest(path)
        compile_manifest(loaded)
    except ManifestError as exc:
        assert exc.problems, "a ManifestError must carry located problems"
        for problem in exc.problems:
            assert problem.location.file.startswith(str(path.parent))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=mutated_manifest())
def test_structural_mutations_never_raise_anything_but_located_problems(tmp_path, case):
    name, data = case
    folder = tmp_path / name
    if not folder.exists():  # the example's schema files, so contracts still resolve
        shutil.copytree(ROOT / "examples" / name, folder, ignore=shutil.ignore_patterns("*.yaml", "*.yml"))
    path = folder / "m.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    _assert_clean_outcome(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(position=st.floats(0, 1), junk=st.text(min_size=1, max_size=12))
def test_textual_mutations_never_raise_anything_but_located_problems(tmp_path, position, junk):
    text = SEED_FILES[0].read_text()
    cut = int(len(text) * position)
    path = tmp_path / "m.yaml"
    path.write_text(text[:cut] + junk + text[cut:])
    _assert_clean_outcome(path)
