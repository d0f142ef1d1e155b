"""HTTP shapes of merges and merge candidates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from fairway_identity.profiles.schemas import Customer


class MergeCandidateOut(BaseModel):
    id: str
    profileIds: list[str]
    status: str
    evidence: list[dict[str, Any]]
    conflictKeys: list[str]
    seenCount: int
    sourceEventId: str | None
    createdAt: datetime
    updatedAt: datetime
    resolvedAt: datetime | None
    resolvedBy: str | None
    resolution: str | None


class MergeCandidatePage(BaseModel):
    items: list[MergeCandidateOut]
    nextCursor: str | None


class UnmergeResult(BaseModel):
    profile: Customer  # the profile that kept the rest of the history
    restored: Customer  # the profile the unmerge brought back
