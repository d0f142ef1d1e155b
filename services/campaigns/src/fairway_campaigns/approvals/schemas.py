from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints


class ApprovalOut(BaseModel):
    id: str
    campaignId: str
    channel: str
    field: str
    variant: str | None
    contentType: str
    text: str
    requirement: str
    reason: str
    gatewayFlagged: bool
    status: Literal["PENDING", "APPROVED", "REJECTED", "EXPIRED", "WITHDRAWN"]
    reviewer: str | None
    feedback: str | None
    edited: bool
    createdAt: datetime
    expiresAt: datetime
    decidedAt: datetime | None


class ApprovalPage(BaseModel):
    items: list[ApprovalOut]
    nextCursor: str | None = None


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feedback: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class EditIn(BaseModel):
    """Approve the text as the reviewer rewrote it."""

    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
