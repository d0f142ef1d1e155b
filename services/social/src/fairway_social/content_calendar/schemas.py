from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class CalendarEntry(BaseModel):
    kind: str  # SOCIAL_POST, CAMPAIGN_SEND, COMPETITION
    id: str
    title: str
    start: datetime  # in the tenant's time zone
    channels: list[str]  # SOCIAL, EMAIL, SMS, PUSH, TEETIME
    status: str
    details: dict[str, Any]


class CalendarOut(BaseModel):
    timeZone: str
    start: datetime
    end: datetime
    items: list[CalendarEntry]


class FeedOut(BaseModel):
    url: str  # secret: whoever has it reads the calendar; creating a new one retires the old
