"""State topics: the latest full snapshot of each entity other services mirror, on compacted topics keyed by the
entity's id. A new reader (a service started later, a rebuilt read model) reads them from the beginning and has a
complete read model, whatever the 30-day event topics still hold. A null record (`state.tombstone`) removes an
entity: on erasure, and for a membership that ended.
"""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from fairway_events.contracts.identity import ProfileSnapshot
from fairway_events.contracts.timeline import TimelineCountersUpdated
from fairway_events.registry import registry


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, protected_namespaces=())


@registry.event("state.tombstone", 1, topic="crm.identity.state")
class StateTombstone(_Model):
    """Not a JSON body on the wire: the consumer turns a null record of any state topic into this event."""

    topic: str  # the catalogue name of the state topic
    key: str


@registry.event("profile.state", 1, topic="crm.identity.state")
class ProfileState(_Model):
    """A profile as identity holds it now. MERGED profiles name their winner; erased ones are tombstones."""

    profile: ProfileSnapshot
    mergedInto: str | None = None
    revision: int = Field(ge=1)
    updatedAt: datetime


@registry.event("counters.state", 1, topic="crm.timeline.state")
class CountersState(TimelineCountersUpdated):
    """A profile's activity counters now (the same fields as timeline.counters_updated)."""


@registry.event("scores.state", 1, topic="crm.scoring.state")
class ScoresState(_Model):
    profileId: str
    engagementScore: float = Field(ge=0, le=100)
    churnRiskScore: float = Field(ge=0, le=100)
    riskLevel: str
    predictedClv: float | None = None
    valueSegment: str | None = None
    updatedAt: datetime


@registry.event("membership.state", 1, topic="crm.segmentation.state")
class MembershipState(_Model):
    """A current member of a segment (key: segment id:profile id); leaving is a tombstone."""

    segmentId: str
    segmentName: str
    profileId: str
    since: datetime
