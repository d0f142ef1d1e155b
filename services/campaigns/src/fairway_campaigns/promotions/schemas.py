"""The promotion API's models: the tenant's settings, a promotion to create, and one with its schedule and
results."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from fairway_campaigns.campaigns.schemas import DEFAULT_TIME_ZONE, Aware, Channel, Id, Name, TimeZone

Day = Annotated[int, Field(ge=1, le=60)]
Status = Literal["PENDING_APPROVAL", "ACTIVE", "STOPPED", "CANCELLED"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _reminder_days(v: list[int]) -> list[int]:
    if len(set(v)) != len(v):
        raise ValueError("reminder days must differ")
    return sorted(v, reverse=True)


class PromotionSettings(_In):
    """How a tenant's competitions are promoted. Auto-promotion needs an audience: `audienceSegmentId`, or a
    segment for the competition's format in `segmentsByFormat`."""

    autoPromote: bool = True
    channels: list[Channel] = Field(default_factory=lambda: [Channel.EMAIL, Channel.SOCIAL], min_length=1)
    audienceSegmentId: Id | None = None
    segmentsByFormat: dict[Annotated[str, StringConstraints(min_length=1, max_length=100)], Id] = Field(
        default_factory=dict, max_length=50)
    reminderDays: list[Day] = Field(default_factory=lambda: [7, 3, 1], max_length=10)
    announcementDelayHours: float = Field(default=0, ge=0, le=168)
    needsApproval: bool = False  # a staff member approves a promotion before anything goes out
    timeZone: TimeZone = DEFAULT_TIME_ZONE  # the club's: reminder days are its local days
    attributionDays: int = Field(default=14, ge=1, le=90)  # an entry counts for the promotion this long after a send

    _days = field_validator("reminderDays")(_reminder_days)

    def segment_for(self, format_: str | None) -> str | None:
        return self.segmentsByFormat.get(format_ or "") or self.audienceSegmentId


class PromotionIn(_In):
    """Promote any event: a TeeTime competition (`competitionId` ties its entries to the promotion) or anything
    else the club runs. Channels, audience and reminder days default to the tenant's settings."""

    name: Name
    startsAt: Aware
    entryDeadline: Aware | None = None
    capacity: int | None = Field(default=None, ge=1)
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    format: Annotated[str, StringConstraints(max_length=100)] | None = None
    link: Annotated[str, StringConstraints(max_length=500, pattern=r"^https://")] | None = None
    competitionId: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    channels: list[Channel] | None = Field(default=None, min_length=1)
    audienceSegmentId: Id | None = None
    reminderDays: list[Day] | None = Field(default=None, max_length=10)

    @field_validator("reminderDays")
    @classmethod
    def _days(cls, v: list[int] | None) -> list[int] | None:
        return None if v is None else _reminder_days(v)

    @model_validator(mode="after")
    def _deadline(self) -> PromotionIn:
        if self.entryDeadline is not None and self.entryDeadline > self.startsAt:
            raise ValueError("entryDeadline: the entry deadline is after the start")
        return self


class StepOut(BaseModel):
    step: str
    kind: str
    daysBefore: int | None
    dueAt: datetime
    windowEnd: datetime | None
    status: str
    reason: str | None
    recipients: int
    requested: int
    doneAt: datetime | None


class SendCount(BaseModel):
    channel: str
    outcome: str
    count: int


class SocialResults(BaseModel):
    published: int
    failed: int
    likes: int
    comments: int
    shares: int
    impressions: int
    clicks: int


class EntryResults(BaseModel):
    total: int  # entries standing now
    attributed: int  # by people the promotion reached within the attribution window before they entered
    capacity: int | None
    attributionDays: int


class ResultsOut(BaseModel):
    reach: int  # people a message of the promotion was requested for
    sends: list[SendCount]  # by channel and dispatch outcome
    opened: int
    clicked: int
    social: SocialResults
    entries: EntryResults


class PromotionOut(BaseModel):
    id: str
    competitionId: str | None
    name: str
    description: str | None
    format: str | None
    startsAt: datetime
    entryDeadline: datetime | None
    capacity: int | None
    link: str | None
    channels: list[str]
    audienceSegmentId: str
    reminderDays: list[int]
    timeZone: str
    status: Status
    stopReason: str | None
    automatic: bool
    contentSource: str | None
    createdBy: str
    createdAt: datetime
    schedule: list[StepOut] = Field(default_factory=list)
    results: ResultsOut | None = None  # on GET /{id}


class PromotionPage(BaseModel):
    items: list[PromotionOut]
    nextCursor: str | None
