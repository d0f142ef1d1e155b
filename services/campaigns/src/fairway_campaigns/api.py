"""What every endpoint of the service shares: the roles, the clock and the job queue."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from fairway_campaigns.state import CampaignsState
from fairway_chassis import Principal, require_roles, runtime_state

# Marketers build and send campaigns; analysts and staff look at them; admins (club owners) review content.
Reader = Annotated[Principal, require_roles("marketer", "analyst", "staff")]
Writer = Annotated[Principal, require_roles("marketer")]
Reviewer = Annotated[Principal, require_roles("admin")]

CampaignIdPath = Annotated[str, Path(min_length=1, max_length=40, description="A campaign id")]
StateDep = Annotated[CampaignsState, Depends(runtime_state(CampaignsState))]


def _now(state: StateDep) -> datetime:
    return state.clock.now()


NowDep = Annotated[datetime, Depends(_now)]


def _jobs(request: Request) -> Any:
    return request.app.state.runtime.jobs


JobsDep = Annotated[Any, Depends(_jobs)]


def _rpc(request: Request) -> Any:
    return request.app.state.runtime.rpc


RpcDep = Annotated[Any, Depends(_rpc)]  # the Kafka request/reply client (the AI gateway)
