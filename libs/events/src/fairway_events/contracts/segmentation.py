"""crm.segmentation: segment membership changes, for campaigns and journeys. Keyed by segment id."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from fairway_events.registry import registry


class _Membership(BaseModel):
    model_config = ConfigDict(frozen=True)
    segmentId: str
    segmentName: str
    profileId: str
    at: datetime
    reason: str | None = None  # "rule", "static", "time", "refresh"


@registry.event("segment.member_entered", 1, topic="crm.segmentation")
class SegmentMemberEntered(_Membership):
    pass


@registry.event("segment.member_exited", 1, topic="crm.segmentation")
class SegmentMemberExited(_Membership):
    pass
