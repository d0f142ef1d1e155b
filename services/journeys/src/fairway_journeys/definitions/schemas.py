"""The journeys API's request and response models. Definitions travel as JSON objects and are checked by
`validation`, so a bad one is a 422 that names its step."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["DRAFT", "ACTIVE", "PAUSED", "ARCHIVED"]


class JourneyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    goalText: str | None = Field(default=None, max_length=1000)
    definition: dict[str, Any]


class JourneyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    goalText: str | None = Field(default=None, max_length=1000)
    definition: dict[str, Any] | None = None


class JourneyOut(BaseModel):
    id: str
    name: str
    description: str | None
    goalText: str | None
    status: Status
    definition: dict[str, Any]
    activeVersion: int | None
    latestVersion: int
    hasUnpublishedChanges: bool  # the definition differs from the version runs enter
    origin: str
    createdAt: datetime
    updatedAt: datetime


class JourneyPage(BaseModel):
    items: list[JourneyOut]
    nextCursor: str | None


class VersionOut(BaseModel):
    version: int
    definition: dict[str, Any]
    createdAt: datetime
