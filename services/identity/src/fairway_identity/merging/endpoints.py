"""Merge candidates, merge and unmerge."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from fairway_chassis import SessionDep, error_responses, paginate
from fairway_identity.deps import Merger, Reader, SettingsDep
from fairway_identity.ids import UUID_PATTERN
from fairway_identity.merge_records.repository import MergeRepository
from fairway_identity.merging import service
from fairway_identity.merging.schemas import MergeCandidateOut, MergeCandidatePage, UnmergeResult
from fairway_identity.profiles.endpoints import ProfileId
from fairway_identity.profiles.schemas import (
    ID_CURSOR,
    Customer,
    MergeRequest,
    UnmergeRequest,
)
from fairway_identity.profiles.service import get_customer

candidates_router = APIRouter(prefix="/api/v1/customers", tags=["merge"])
router = APIRouter(prefix="/api/v1/customers", tags=["merge"])
CandidateId = Annotated[str, Path(pattern=UUID_PATTERN)]


@candidates_router.get("/merge-candidates", response_model=MergeCandidatePage)
async def list_candidates(
    session: SessionDep,
    principal: Reader,
    status: Literal["OPEN", "ACCEPTED", "DISMISSED", "SUPERSEDED"] = "OPEN",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MergeCandidatePage:
    rows = await MergeRepository.for_tenant(session, principal.tenant_id).list_candidates(
        status, str(after) if (after := ID_CURSOR.decode(cursor)) else None, limit + 1
    )
    page = paginate(rows, limit, ID_CURSOR, key=lambda r: uuid.UUID(str(r.id)))
    return MergeCandidatePage(
        items=[
            MergeCandidateOut(
                id=r.id,
                profileIds=[r.a, r.b],
                status=r.status,
                evidence=r.evidence,
                conflictKeys=r.conflict_keys,
                seenCount=r.seen_count,
                sourceEventId=r.source_event_id,
                createdAt=r.created_at,
                updatedAt=r.updated_at,
                resolvedAt=r.resolved_at,
                resolvedBy=r.resolved_by,
                resolution=r.resolution,
            )
            for r in page.items
        ],
        nextCursor=page.next_cursor,
    )


@candidates_router.post("/merge-candidates/{candidate_id}/dismiss", responses=error_responses(404, 409), status_code=204)
async def dismiss_candidate(candidate_id: CandidateId, session: SessionDep, principal: Merger) -> None:
    """Not the same person: close the candidate and stop proposing this pair."""
    await service.dismiss_candidate(session, principal.tenant_id, candidate_id.lower(), principal.subject)


@router.post("/{profile_id}/merge", responses=error_responses(404, 409), response_model=Customer)
async def merge(
    profile_id: ProfileId, body: MergeRequest, session: SessionDep, principal: Merger
) -> Customer:
    winner = await service.merge(
        session, principal.tenant_id, profile_id.lower(), body.loserId.lower(), principal.subject, body.reason
    )
    return await get_customer(session, principal.tenant_id, winner)


@router.post("/{profile_id}/unmerge", responses=error_responses(404, 409), response_model=UnmergeResult)
async def unmerge(
    profile_id: ProfileId,
    session: SessionDep,
    principal: Merger,
    settings: SettingsDep,
    body: UnmergeRequest | None = None,
) -> UnmergeResult:
    """Undo a merge. `{profile_id}` may be the merged (lost) profile, or the winner: then `loserId` names the
    profile to restore, or its most recent merge is undone."""
    kept, restored = await service.unmerge(
        session,
        principal.tenant_id,
        profile_id.lower(),
        body.loserId.lower() if body and body.loserId else None,
        principal.subject,
        settings.policy_for(principal.tenant_id),
    )
    return UnmergeResult(
        profile=await get_customer(session, principal.tenant_id, kept),
        restored=await get_customer(session, principal.tenant_id, restored),
    )
