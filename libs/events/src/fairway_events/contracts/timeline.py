"""crm.timeline: activity counters per profile, kept right as time passes. Keyed by profile id."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.registry import registry


@registry.event("timeline.counters_updated", 1, topic="crm.timeline")
class TimelineCountersUpdated(BaseModel):
    model_config = ConfigDict(frozen=True)
    profileId: str
    asOf: datetime
    activityCount30d: int = Field(ge=0)
    activityCount90d: int = Field(ge=0)
    bookingCount30d: int = Field(ge=0)
    bookingCount90d: int = Field(ge=0)
    roundsPlayed30d: int = Field(ge=0)
    roundsPlayed90d: int = Field(ge=0)
    emailSends30d: int = Field(ge=0)
    emailOpens30d: int = Field(ge=0)
    emailClicks30d: int = Field(ge=0)
    lastActivityAt: datetime | None = None
    lastActivityType: str | None = None
    lastBookingAt: datetime | None = None
    lastRoundAt: datetime | None = None
    lastEmailOpenAt: datetime | None = None
    lastEmailClickAt: datetime | None = None
