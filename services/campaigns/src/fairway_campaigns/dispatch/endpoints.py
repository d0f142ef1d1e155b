"""/api/v1/dispatch/settings: the tenant's dispatch policy. Everyone who plans sends reads it; admins and
marketers change it."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from fairway_campaigns.dispatch.schemas import DispatchSettings
from fairway_campaigns.dispatch.service import DispatchService
from fairway_campaigns.state import CampaignsState
from fairway_chassis import Principal, SessionDep, require_roles, runtime_state

router = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch"])
StateDep = Annotated[CampaignsState, Depends(runtime_state(CampaignsState))]
Reader = Annotated[Principal, require_roles("marketer", "analyst", "staff")]
Editor = Annotated[Principal, require_roles("marketer")]


def _dispatch(state: CampaignsState) -> DispatchService:
    assert isinstance(state.dispatch, DispatchService), "app.py wires the dispatch service"
    return state.dispatch


@router.get("/settings", response_model=DispatchSettings)
async def get_settings(session: SessionDep, principal: Reader, state: StateDep) -> DispatchSettings:
    """The tenant's settings, or the defaults until someone saves them."""
    return await _dispatch(state).settings(session, principal.tenant_id)


@router.put("/settings", response_model=DispatchSettings)
async def put_settings(body: DispatchSettings, session: SessionDep, principal: Editor,
                       state: StateDep) -> DispatchSettings:
    """Replace the tenant's settings; they apply to every decision from now on, held messages included."""
    return await _dispatch(state).save_settings(session, principal.tenant_id, body, state.clock.now(),
                                              principal.subject)
