"""GET /api/v1/sync-log: every upstream event identity applied (the implementation guide's SyncLog)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from fairway_chassis import SessionDep, paginate
from fairway_identity.deps import Reader
from fairway_identity.eventlog.repository import EventLogRepository
from fairway_identity.ids import UUID_PATTERN
from fairway_identity.profiles.schemas import LOG_CURSOR

router = APIRouter(prefix="/api/v1/sync-log", tags=["sync-log"])


class SyncLogEntry(BaseModel):
    tenantId: str
    eventId: str
    source: str
    type: str
    profileId: str | None
    status: str  # APPLIED | SKIPPED (no usable identifier)
    occurredAt: datetime
    appliedAt: datetime
    matchedBy: list[str] | None = None
    confidence: Any = None


class SyncLogPage(BaseModel):
    items: list[SyncLogEntry]
    nextCursor: str | None


@router.get("", response_model=SyncLogPage)
async def sync_log(
    session: SessionDep,
    principal: Reader,
    eventId: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=200)] = None,
    profileId: Annotated[str | None, Query(pattern=UUID_PATTERN)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SyncLogPage:
    rows = await EventLogRepository.for_tenant(session, principal.tenant_id).sync_log(
        event_id=eventId,
        event_type=type,
        profile_id=profileId,
        before=LOG_CURSOR.decode(cursor),
        limit=limit + 1,
    )
    page = paginate(rows, limit, LOG_CURSOR, key=lambda r: r.id)
    return SyncLogPage(
        items=[
            SyncLogEntry(
                tenantId=principal.tenant_id,
                eventId=r.event_id,
                source=r.source,
                type=r.event_type,
                profileId=r.profile_id,
                status=r.status,
                occurredAt=r.occurred_at,
                appliedAt=r.applied_at,
                matchedBy=r.matched_by,
                confidence=r.confidence,
            )
            for r in page.items
        ],
        nextCursor=page.next_cursor,
    )
