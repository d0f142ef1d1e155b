"""A profile as the write side holds it while changing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fairway_identity.jsonutil import loads
from fairway_identity.profiles.state import ProfileState


@dataclass
class LiveProfile:
    id: str
    tenant_id: str
    state: ProfileState
    structural: str | None = None  # MERGED / DELETED, else the state decides ACTIVE / INACTIVE
    merged_into: str | None = None
    distinct_from: set[str] = field(default_factory=set)
    is_new: bool = False
    dirty: bool = False

    @property
    def status(self) -> str:
        return self.structural or self.state.status()


def live_profile(r: Any) -> LiveProfile:
    ids = loads(r.identities) if r.identities else {}
    state = ProfileState.loads(r.state, ids)
    structural = r.status if r.status in ("MERGED", "DELETED") else None
    return LiveProfile(
        id=r.id,
        tenant_id=r.tenant_id,
        state=state,
        structural=structural,
        merged_into=r.merged_into,
        distinct_from=set(loads(r.distinct_from or "[]")),
    )


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """A stored profile as the read side shows it."""

    id: str
    tenant_id: str
    status: str
    merged_into: str | None
    lifecycle_stage: str
    tags: list[str]
    attributes: dict[str, Any]
    consent: dict[str, Any]
    identities: dict[str, list[str]]
    state: dict[str, Any]
    revision: int
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One identifier linked to a profile."""

    key_type: str
    value: str
    source_event_id: str | None
    linked_at: datetime
