"""GET /customers/{id}/counters: what the counters concept last published for a profile."""
from __future__ import annotations

from fastapi import APIRouter

from fairway_chassis import error_responses
from fairway_timeline.activities.schemas import CountersOut
from fairway_timeline.api import ProfileIdPath, Reader, ReadSessionDep, live_profile
from fairway_timeline.counters.repository import EMPTY, CountersRepository

router = APIRouter(prefix="/api/v1/customers", tags=["timeline"])


@router.get("/{profile_id}/counters", responses=error_responses(404), response_model=CountersOut)
async def get_counters(
    profile_id: ProfileIdPath, session: ReadSessionDep, principal: Reader
) -> CountersOut:
    """The counters last published on crm.timeline for this profile."""
    live = await live_profile(session, principal.tenant_id, profile_id)
    stored = await CountersRepository.for_tenant(session, principal.tenant_id).get(live)
    if stored is None:
        return CountersOut(profileId=live, asOf=None, counters=dict(EMPTY))
    return CountersOut(profileId=live, asOf=stored[1], counters=stored[0])
