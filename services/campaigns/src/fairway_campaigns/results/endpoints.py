"""GET /api/v1/campaigns/{id}/stats."""
from __future__ import annotations

from fastapi import APIRouter

from fairway_campaigns.api import CampaignIdPath, Reader, StateDep
from fairway_campaigns.campaigns import service as campaigns
from fairway_campaigns.results import service
from fairway_campaigns.results.schemas import CampaignStats
from fairway_chassis import API_ERRORS, SessionDep, error_responses

router = APIRouter(prefix="/api/v1/campaigns", tags=["results"], responses=error_responses(*API_ERRORS))


@router.get("/{campaign_id}/stats", response_model=CampaignStats, responses=error_responses(404))
async def campaign_stats(campaign_id: CampaignIdPath, session: SessionDep, state: StateDep, principal: Reader
                         ) -> CampaignStats:
    """Targeted, skipped by reason, requested, sent, delivered, opened, clicked, bounced, unsubscribed, converted and
    attributed revenue, per variant and hour by hour, with the uplift over the control group."""
    campaign = await campaigns.get(session, principal.tenant_id, campaign_id)
    return await service.stats(session, state.dispatch, principal.tenant_id, campaign)
