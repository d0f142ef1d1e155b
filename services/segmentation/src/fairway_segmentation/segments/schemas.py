"""Request and response bodies of the segments API (camelCase, as the rest of Fairway's JSON)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fairway_chassis import CursorCodec

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SegmentType = Literal["DYNAMIC", "STATIC"]
MAX_KEYS = 10000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SegmentIn(_In):
    name: Name
    description: str | None = Field(default=None, max_length=2000)
    type: SegmentType = "DYNAMIC"
    # Raw JSON, checked by fairway_schemas.criteria.check_criteria so every error names its rule's path.
    criteria: dict[str, Any] | None = None
    active: bool = True
    syncToMessaging: bool = False


class SegmentPatch(_In):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=2000)
    criteria: dict[str, Any] | None = None
    active: bool | None = None
    syncToMessaging: bool | None = None


class SizePoint(BaseModel):
    at: datetime
    memberCount: int
    entered: int
    exited: int
    reason: str


class SegmentOut(BaseModel):
    id: str
    name: str
    description: str | None
    type: SegmentType
    criteria: dict[str, Any] | None
    active: bool
    syncToMessaging: bool
    memberCount: int
    timeSensitivity: Literal["instant", "day"] | None
    lastRefreshedAt: datetime | None
    lastSyncedAt: datetime | None
    createdBy: str | None
    createdAt: datetime
    updatedAt: datetime
    sizeHistory: list[SizePoint] | None = None


class SegmentPage(BaseModel):
    items: list[SegmentOut]
    nextCursor: str | None


class Member(BaseModel):
    profileId: str
    addedAt: datetime
    source: str
    firstName: str | None
    lastName: str | None
    email: str | None
    membershipTier: str | None


class MemberPage(BaseModel):
    items: list[Member]
    nextCursor: str | None


class MembersIn(_In):
    """Static members to add or remove, by profile id, email or member number (membership number / SCL id)."""

    profileIds: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=MAX_KEYS
    )
    emails: list[Annotated[str, StringConstraints(min_length=1, max_length=320)]] = Field(
        default_factory=list, max_length=MAX_KEYS
    )
    memberNumbers: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=MAX_KEYS
    )


class Unmatched(BaseModel):
    kind: Literal["profileId", "email", "memberNumber"]
    value: str
    row: int | None = None  # CSV line number


class MembersResult(BaseModel):
    requested: int
    matched: int
    changed: int  # added, or removed
    unchanged: int  # already a member, or not one
    memberCount: int
    unmatched: list[Unmatched]  # the first 200
    unmatchedCount: int
    invalidRows: list[int] = Field(default_factory=list)  # CSV lines with neither an email nor a number


class RefreshResult(BaseModel):
    memberCount: int
    entered: int
    exited: int
    refreshedAt: datetime


class SyncResult(BaseModel):
    events: int
    memberCount: int
    lastSyncedAt: datetime


class PreviewIn(_In):
    criteria: dict[str, Any]
    sampleSize: int = Field(default=10, ge=0, le=100)


class ProfileSummary(BaseModel):
    profileId: str
    firstName: str | None
    lastName: str | None
    email: str | None
    membershipTier: str | None
    status: str | None


class PreviewOut(BaseModel):
    estimatedSize: int
    sample: list[ProfileSummary]
    warnings: list[str]


class FieldOut(BaseModel):
    name: str
    type: str
    description: str
    operators: list[str]
    values: list[str] | None
    granularity: Literal["instant", "day"] | None
    source: str


# The cursors of the two lists (chassis codec): segment ids are UUIDv7, listed in id order; members by profile id.
SEGMENT_CURSOR: CursorCodec[uuid.UUID] = CursorCodec(uuid.UUID)
MEMBER_CURSOR: CursorCodec[str] = CursorCodec(Annotated[str, StringConstraints(min_length=1, max_length=200)])
