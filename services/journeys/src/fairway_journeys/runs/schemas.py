"""The runs API's models."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal["ACTIVE", "COMPLETED", "CONVERTED", "EXITED"]


class EnrolIn(BaseModel):
    """Members to put into the journey's active version (the entry rules apply). `csv`: a header-less list of profile
    ids, one per line or comma-separated, as a staff member pastes it."""

    model_config = ConfigDict(extra="forbid")
    profileIds: list[str] = Field(default_factory=list, max_length=10000)
    csv: str | None = Field(default=None, max_length=2_000_000)
    entryKey: str | None = Field(default=None, max_length=200)  # e.g. an import batch: enter once per key


class EnrolOut(BaseModel):
    started: list[str]  # run ids
    refused: dict[str, str]  # profile id -> reason


class RunOut(BaseModel):
    id: str
    journeyId: str
    version: int
    profileId: str
    status: RunStatus
    stepId: str | None
    stepType: str | None
    waiting: str | None  # "timer", "event", "dispatch.outcome"
    waitingUntil: datetime | None
    why: str  # where it is and why, in words
    startedAt: datetime
    endedAt: datetime | None
    endReason: str | None


class RunPage(BaseModel):
    items: list[RunOut]
    nextCursor: str | None
