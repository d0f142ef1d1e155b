"""GET /api/v1/campaigns/{id}/audience (before scheduling) and POST …/{id}/test-send (a proof to chosen people)."""
from __future__ import annotations

from fastapi import APIRouter

from fairway_campaigns.api import CampaignIdPath, NowDep, Reader, StateDep, Writer
from fairway_campaigns.campaigns.schemas import AudienceOut, TestSendIn
from fairway_campaigns.sending import service
from fairway_campaigns.sending.schemas import TestSendOut
from fairway_chassis import API_ERRORS, SessionDep, error_responses

router = APIRouter(prefix="/api/v1/campaigns", tags=["sending"], responses=error_responses(*API_ERRORS))


@router.get("/{campaign_id}/audience", response_model=AudienceOut, responses=error_responses(404))
async def campaign_audience(campaign_id: CampaignIdPath, session: SessionDep, state: StateDep, principal: Reader
                            ) -> AudienceOut:
    """How many the target segment holds now, less the exclusion segments, and a sample of profile ids."""
    return await service.preview(session, state.dispatch, principal.tenant_id, campaign_id)


@router.post("/{campaign_id}/test-send", response_model=TestSendOut, responses=error_responses(404))
async def campaign_test_send(campaign_id: CampaignIdPath, body: TestSendIn, session: SessionDep, state: StateDep,
                             now: NowDep, principal: Writer) -> TestSendOut:
    """Send the campaign's content to the given profiles now, through dispatch (consent still applies). Allowed in
    any state; it does not count in the campaign's results."""
    return await service.test_send(session, state.dispatch, principal.tenant_id, campaign_id, body.profileIds, now)
