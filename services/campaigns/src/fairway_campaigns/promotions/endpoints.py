"""/api/v1/promotions: list, create for any event, one with its schedule and results, approve, cancel; and the
tenant's promotion settings. Endpoints validate, call one service function, map."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.api import JobsDep, NowDep, Reader, Reviewer, StateDep, Writer
from fairway_campaigns.promotions import service
from fairway_campaigns.promotions.repository import Promotion, PromotionRepository
from fairway_campaigns.promotions.schemas import (
    PromotionIn,
    PromotionOut,
    PromotionPage,
    PromotionSettings,
    StepOut,
)
from fairway_chassis import API_ERRORS, ServiceUnavailable, SessionDep, error_responses

router = APIRouter(prefix="/api/v1/promotions", tags=["promotions"], responses=error_responses(*API_ERRORS))
PromotionIdPath = Annotated[str, Path(min_length=1, max_length=40, description="A promotion id")]


async def out(session: AsyncSession, p: Promotion, *, results: bool = False) -> PromotionOut:
    steps = await PromotionRepository(session, p.tenant_id).steps(p.id)
    return PromotionOut(
        id=p.id, competitionId=p.competition_id, name=p.name, description=p.description, format=p.format,
        startsAt=p.starts_at, entryDeadline=p.entry_deadline, capacity=p.capacity, link=p.link, channels=p.channels,
        audienceSegmentId=p.segment_id, reminderDays=p.reminder_days, timeZone=p.time_zone,
        status=p.status, stopReason=p.stop_reason, automatic=p.automatic,  # type: ignore[arg-type]
        contentSource=p.content_source, createdBy=p.created_by, createdAt=p.created_at,
        schedule=[StepOut(step=s.step, kind=s.kind, daysBefore=s.days_before, dueAt=s.due_at,
                          windowEnd=s.window_end, status=s.status, reason=s.reason, recipients=s.recipients,
                          requested=s.requested, doneAt=s.done_at) for s in steps],
        results=await service.results(session, p) if results else None,
    )


@router.get("/settings", response_model=PromotionSettings)
async def get_settings(session: SessionDep, principal: Reader) -> PromotionSettings:
    """The tenant's settings, or the defaults until someone saves them."""
    return await service.settings(session, principal.tenant_id)


@router.put("/settings", response_model=PromotionSettings)
async def put_settings(body: PromotionSettings, session: SessionDep, now: NowDep, principal: Writer
                       ) -> PromotionSettings:
    """Replace the tenant's settings; promotions created from now on follow them."""
    return await service.save_settings(session, principal.tenant_id, body, now, principal.subject)


@router.get("", response_model=PromotionPage)
async def list_promotions(session: SessionDep, principal: Reader,
                          cursor: Annotated[str | None, Query(max_length=500)] = None,
                          limit: Annotated[int, Query(ge=1, le=200)] = 50) -> PromotionPage:
    """Newest first; pass `nextCursor` back as `cursor` for the next page."""
    page = await service.page(session, principal.tenant_id, cursor, limit)
    return PromotionPage(items=[await out(session, p) for p in page.items], nextCursor=page.next_cursor)


@router.post("", response_model=PromotionOut, status_code=201, responses=error_responses(409, 422))
async def create_promotion(body: PromotionIn, session: SessionDep, jobs: JobsDep, now: NowDep, principal: Writer
                           ) -> PromotionOut:
    """Promote any event; a TeeTime competition by its `competitionId` (409 if it is promoted already)."""
    p = await service.create(session, jobs, principal.tenant_id, body, principal.subject, now)
    assert p is not None  # a staff member's request raises instead of returning nothing
    return await out(session, p)


@router.get("/{promotion_id}", response_model=PromotionOut, responses=error_responses(404))
async def get_promotion(promotion_id: PromotionIdPath, session: SessionDep, principal: Reader) -> PromotionOut:
    """The promotion with its schedule and results."""
    return await out(session, await service.get(session, principal.tenant_id, promotion_id), results=True)


@router.post("/{promotion_id}/approve", response_model=PromotionOut, responses=error_responses(404, 409))
async def approve_promotion(promotion_id: PromotionIdPath, session: SessionDep, jobs: JobsDep, now: NowDep,
                            principal: Reviewer) -> PromotionOut:
    """PENDING_APPROVAL -> ACTIVE (when the tenant's settings say promotions need approval)."""
    return await out(session, await service.approve(session, jobs, principal.tenant_id, promotion_id,
                                                    principal.subject, now))


@router.post("/{promotion_id}/cancel", response_model=PromotionOut, responses=error_responses(404, 409))
async def cancel_promotion(promotion_id: PromotionIdPath, session: SessionDep, state: StateDep, now: NowDep,
                           principal: Writer) -> PromotionOut:
    """Stop everything still to go out: pending steps, messages dispatch holds, posts not yet published."""
    if state.dispatch is None:
        raise ServiceUnavailable("dispatch is not running")
    return await out(session, await service.cancel(session, state.dispatch, principal.tenant_id, promotion_id, now))
