from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class ActivityOut(BaseModel):
    id: str
    profileId: str
    type: str
    category: str
    title: str
    sourceService: str
    sourceEventId: str
    occurredAt: datetime
    recordedAt: datetime
    payload: dict[str, Any]


class TimelinePage(BaseModel):
    profileId: str
    items: list[ActivityOut]
    total: int  # every activity matching the filters, not only this page
    nextCursor: str | None


class CountersOut(BaseModel):
    profileId: str
    asOf: datetime | None  # when these values were last published; None: no activity yet
    counters: dict[str, Any]
