"""/api/v1/campaigns: CRUD and the lifecycle actions. Endpoints validate, call one service function, map."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from fairway_campaigns.api import CampaignIdPath, JobsDep, NowDep, Reader, RpcDep, StateDep, Writer
from fairway_campaigns.campaigns import content, service
from fairway_campaigns.campaigns.repository import Campaign
from fairway_campaigns.campaigns.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignPatch,
    GeneratedVariant,
    GenerateIn,
    GenerateOut,
)
from fairway_campaigns.campaigns.states import State
from fairway_chassis import API_ERRORS, SessionDep, error_responses

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"], responses=error_responses(*API_ERRORS))
ACTION = error_responses(404, 409)  # 409 InvalidTransition: `detail` names the campaign's current state


def out(c: Campaign) -> CampaignOut:
    return CampaignOut(
        id=c.id, name=c.name, goal=c.goal, channels=c.channels, targetSegmentId=c.target_segment_id,
        exclusionSegmentIds=c.exclusion_segment_ids, content=c.content, timeZone=c.time_zone, schedule=c.schedule,
        abTest=c.ab_test, state=c.state, phase=c.phase, startsAt=c.starts_at, audienceSize=c.audience_size,
        submitted=c.cursor, winner=c.winner, createdBy=c.created_by, createdAt=c.created_at, updatedAt=c.updated_at,
        startedAt=c.started_at, finishedAt=c.finished_at,
    )


@router.post("", response_model=CampaignOut, status_code=201)
async def create_campaign(body: CampaignIn, session: SessionDep, now: NowDep, principal: Writer
                          ) -> CampaignOut:
    """A new campaign, in DRAFT."""
    return out(await service.create(session, principal.tenant_id, principal.subject, body, now))


@router.get("", response_model=CampaignPage)
async def list_campaigns(
    session: SessionDep,
    principal: Reader,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    state: State | None = None,
) -> CampaignPage:
    """Newest first; pass `nextCursor` back as `cursor` for the next page."""
    page = await service.page(session, principal.tenant_id, cursor, limit, state)
    return CampaignPage(items=[out(c) for c in page.items], nextCursor=page.next_cursor)


@router.get("/{campaign_id}", response_model=CampaignOut, responses=error_responses(404))
async def get_campaign(campaign_id: CampaignIdPath, session: SessionDep, principal: Reader
                       ) -> CampaignOut:
    return out(await service.get(session, principal.tenant_id, campaign_id))


@router.patch("/{campaign_id}", response_model=CampaignOut, responses=ACTION)
async def change_campaign(campaign_id: CampaignIdPath, body: CampaignPatch, session: SessionDep, now: NowDep,
                          principal: Writer) -> CampaignOut:
    """Edit a DRAFT (409 in any other state)."""
    return out(await service.change(session, principal.tenant_id, campaign_id, body, now))


@router.delete("/{campaign_id}", status_code=204, responses=ACTION)
async def delete_campaign(campaign_id: CampaignIdPath, session: SessionDep, principal: Writer
                          ) -> Response:
    """Delete a DRAFT or CANCELLED campaign."""
    await service.remove(session, principal.tenant_id, campaign_id)
    return Response(status_code=204)


@router.post("/{campaign_id}/schedule", response_model=CampaignOut, responses=ACTION)
async def schedule_campaign(campaign_id: CampaignIdPath, session: SessionDep, jobs: JobsDep, now: NowDep,
                            principal: Writer) -> CampaignOut:
    """DRAFT -> SCHEDULED (or PENDING_APPROVAL while its content awaits review)."""
    return out(await service.schedule(session, jobs, principal.tenant_id, campaign_id, principal.subject, now))


@router.post("/{campaign_id}/pause", response_model=CampaignOut, responses=ACTION)
async def pause_campaign(campaign_id: CampaignIdPath, session: SessionDep, now: NowDep,
                         principal: Writer) -> CampaignOut:
    """SCHEDULED or SENDING -> PAUSED, between two batches of the fan-out."""
    return out(await service.pause(session, principal.tenant_id, campaign_id, principal.subject, now))


@router.post("/{campaign_id}/resume", response_model=CampaignOut, responses=ACTION)
async def resume_campaign(campaign_id: CampaignIdPath, session: SessionDep, jobs: JobsDep, now: NowDep,
                          principal: Writer) -> CampaignOut:
    """PAUSED -> the state it was paused in; the fan-out carries on from its checkpoint."""
    return out(await service.resume(session, jobs, principal.tenant_id, campaign_id, principal.subject, now))


@router.post("/{campaign_id}/cancel", response_model=CampaignOut, responses=ACTION)
async def cancel_campaign(campaign_id: CampaignIdPath, session: SessionDep, state: StateDep, now: NowDep,
                          principal: Writer) -> CampaignOut:
    """Anything not finished -> CANCELLED; messages dispatch still holds are withdrawn."""
    return out(await service.cancel(session, state.dispatch, principal.tenant_id, campaign_id, principal.subject,
                                    now))


@router.post("/{campaign_id}/content/generate", response_model=GenerateOut,
             responses=error_responses(404, 409, 503))
async def generate_content(campaign_id: CampaignIdPath, body: GenerateIn, session: SessionDep, rpc: RpcDep,
                           state: StateDep, now: NowDep, principal: Writer) -> GenerateOut:
    """Copy from the AI gateway (tone, length, emoji) for a DRAFT's channel text or as its A/B test's variants."""
    result, campaign = await content.generate(session, rpc, principal.tenant_id, campaign_id, body, now,
                                              state.ai_timeout_seconds)
    return GenerateOut(
        variants=[GeneratedVariant(id=v.id, content=v.content, approach=v.approach) for v in result.variants],
        source=result.source, decisionId=result.decisionId, requiresApproval=result.requiresApproval,
        campaign=out(campaign))
