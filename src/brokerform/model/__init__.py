"""Pydantic models of the manifest language."""

from brokerform.model.manifest import Manifest, Settings, TARGET_TYPES

__all__ = ["Manifest", "Settings", "TARGET_TYPES"]
