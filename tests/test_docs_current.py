"""Generated documentation is committed and current."""

from pathlib import Path

from brokerform.model.reference import render_reference

ROOT = Path(__file__).resolve().parents[1]


def test_manifest_reference_is_generated_from_the_current_models():
    assert (ROOT / "docs" / "manifest-reference.md").read_text() == render_reference(), (
        "run: python -m brokerform.model.reference > docs/manifest-reference.md"
    )
