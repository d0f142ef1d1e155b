"""HTTP shapes of erasure and export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from fairway_identity.profiles.schemas import Customer


class Erasure(BaseModel):
    profileId: str
    erasedIds: list[str]
    erasedAt: datetime | None


class Export(BaseModel):
    """Everything identity holds about the person (GDPR portability)."""

    model_config = ConfigDict(extra="allow")  # a new section is exported before it is described here

    exportedAt: datetime
    profile: Customer
    mergedProfileIds: list[str]
    identities: list[dict[str, Any]]
    observations: list[dict[str, Any]]
    consent: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    events: list[dict[str, Any]]
    merges: list[Any]
    mergeCandidates: list[Any]
