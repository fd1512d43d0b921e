"""Fields every target has, whatever the broker."""

from __future__ import annotations

from pydantic import Field

from brokerform.model.base import Labels, StrictModel
from brokerform.model.common import Tls


class TargetBase(StrictModel):
    description: str | None = None
    owner: str | None = None
    contact: str | None = None
    environment: str | None = Field(default=None, description="Environment this target belongs to (dev, prod...).")
    labels: Labels = Field(default_factory=dict)
    tls: Tls | None = Field(default=None, description="Transport security; omitted means plaintext.")
    allow_replace: bool = Field(default=False, description="Allow REPLACE without --allow-replace.")
    protect: bool = Field(default=False, description="Refuse any destructive change to this target's resources.")
    high_availability: "HighAvailability | None" = None


class HighAvailability(StrictModel):
    """Infrastructure posture declared for the decision report."""

    zone_redundant: bool | None = None
    cluster_nodes: int | None = Field(default=None, ge=1)
    geo_replication: str | None = Field(default=None, description="Where data is replicated for disaster recovery.")
    backup: str | None = Field(default=None, description="How definitions/data are backed up.")


class NativeResource(StrictModel):
    """Fields every native resource has."""

    protect: bool = Field(default=False, description="Make any destructive change to this resource a plan error.")
    description: str | None = None
    owner: str | None = None


TargetBase.model_rebuild()
