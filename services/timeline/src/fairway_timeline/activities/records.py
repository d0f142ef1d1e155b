"""The activity as the rest of the service passes it around."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fairway_timeline.identity_map.keys import Key


@dataclass
class NewActivity:
    id: uuid.UUID
    tenant_id: str
    type: str
    category: str
    title: str
    source_service: str
    source_event_id: str
    occurred_at: datetime
    payload: dict[str, Any]
    counts: bool
    keys: list[Key] = field(default_factory=list)  # the event's usable identity keys, highest priority first
    profile_id: str | None = None
    resolved_key_id: int | None = None
    resolved_rank: int | None = None
    visible_to: str | None = None

    @property
    def waits(self) -> list[Key]:
        """Keys that would resolve the activity better than what resolved it (all of them while pending)."""
        if self.resolved_rank is None:
            return list(self.keys)
        return [k for k in self.keys if k.rank < self.resolved_rank]


@dataclass(frozen=True)
class Activity:
    id: uuid.UUID
    profile_id: str
    type: str
    category: str
    title: str
    source_service: str
    source_event_id: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]
