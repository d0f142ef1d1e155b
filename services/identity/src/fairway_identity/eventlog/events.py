"""Identity's event log: one row per event identity applied (upstream, staff edit), and the envelope of every
event identity announces. Shared by profiles, resolution, merging and privacy, so it sits below them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from fairway_events import Envelope, registry

SOURCE = "identity"


@dataclass
class LogRow:
    tenant_id: str
    event_id: str
    source: str
    event_type: str
    occurred_at: datetime
    profile_id: str | None
    status: str
    detail: dict[str, Any]
    body: str
    kind: str = "upstream"


def envelope(payload: BaseModel, tenant_id: str, aggregate_id: str, at: datetime) -> Envelope:
    return registry.envelope(
        payload, tenant_id=tenant_id, aggregate_id=aggregate_id, source=SOURCE, occurred_at=at
    )
