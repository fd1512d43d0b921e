"""The wheel carries every package and the top-level templates/ folder."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_under_src_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT / "src").parts) for p in (ROOT / "src").rglob("__init__.py")}
    template_folders = {".".join(("brokerform", "templates") + p.parent.relative_to(ROOT / "templates").parts)
                        for p in (ROOT / "templates").rglob("*.j2")}
    assert listed == on_disk | template_folders | {"brokerform.templates"}


@pytest.mark.slow
def test_wheel_contains_templates_data_and_every_module(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("brokerform-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.j2")}
    assert {"brokerform/" + t for t in templates} <= names
    assert "brokerform/data/broker-capabilities.yaml" in names
    modules = {str(p.relative_to(ROOT / "src")) for p in (ROOT / "src").rglob("*.py")}
    assert modules <= names
