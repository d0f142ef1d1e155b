"""HTTP shapes of a read-only resolution."""

from __future__ import annotations

from pydantic import BaseModel

from fairway_identity.profiles.schemas import Customer


class Conflict(BaseModel):
    keyType: str
    value: str
    profileId: str


class RejectedHint(BaseModel):
    keyType: str
    value: str
    reason: str


class Resolution(BaseModel):
    profile: Customer
    matchedBy: list[str]
    confidence: int
    conflicts: list[Conflict]
    rejected: list[RejectedHint]
