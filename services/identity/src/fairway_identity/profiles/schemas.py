"""HTTP shapes of customer profiles."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fairway_chassis import CursorCodec
from fairway_events.contracts.identity import Attributes, Consent, Identities
from fairway_identity.ids import UUID_PATTERN


class AttributeSource(BaseModel):
    source: str  # scl | teetime | staff | computed
    at: str
    eventId: str | None = None


class Customer(BaseModel):
    id: str
    status: str
    lifecycleStage: str
    identities: Identities
    attributes: Attributes
    attributeSources: dict[str, AttributeSource]
    consent: Consent
    consentChangedAt: dict[str, str]
    tags: list[str]
    mergedInto: str | None = None
    requestedId: str | None = Field(default=None, description="set when a merged id was asked for")
    revision: int
    createdAt: datetime
    updatedAt: datetime


class CustomerPage(BaseModel):
    items: list[Customer]
    nextCursor: str | None


class CustomerPatch(BaseModel):
    """Staff-editable fields. A field set to null withdraws the staff value (upstream values show again).
    Membership fields belong to SCL, handicap to TeeTime, consent to Messaging: they are not editable here."""

    model_config = ConfigDict(extra="forbid")

    firstName: str | None = Field(default=None, min_length=1, max_length=100)
    lastName: str | None = Field(default=None, min_length=1, max_length=100)
    dateOfBirth: date | None = None
    homeClub: str | None = Field(default=None, min_length=1, max_length=200)
    lifecycleStage: Literal["SUBSCRIBER", "LEAD", "CUSTOMER", "ADVOCATE"] | None = None
    status: Literal["ACTIVE", "INACTIVE"] | None = None
    tags: list[str] | None = Field(default=None, max_length=50)

    @field_validator("dateOfBirth")
    @classmethod
    def _past(cls, v: date | None) -> date | None:
        if v is not None and (v > date.today() or v.year < 1900):
            raise ValueError("date of birth must be in the past and after 1900")
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        out: list[str] = []
        for t in v:
            t = t.strip()
            if not t or len(t) > 50:
                raise ValueError("each tag must be 1-50 characters")
            if t not in out:
                out.append(t)
        return out


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    loserId: str = Field(pattern=UUID_PATTERN)
    reason: str | None = Field(default=None, max_length=500)


class UnmergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    loserId: str | None = Field(default=None, pattern=UUID_PATTERN)


# Lists page by id (profiles, merge candidates: UUIDs) or by log position (the sync log, newest first).
ID_CURSOR: CursorCodec[uuid.UUID] = CursorCodec(uuid.UUID)
LOG_CURSOR: CursorCodec[int] = CursorCodec(Annotated[int, Field(ge=1, le=2**63 - 1)])
