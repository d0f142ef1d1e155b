"""A service's state topics in the chassis: the publisher loop, and the admin API that reannounces a tenant.

    ServiceDefinition(..., state_sources=[StateSource(topic="crm.identity.state", table="profile", ...)])

gives the service a background loop announcing changed rows every `state_publish_seconds`, and
`POST /api/v1/admin/state/reannounce` / `GET /api/v1/admin/state` (admin; the token's tenant) that
`fairway reannounce` drives.
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from fairway_chassis.auth import Principal, require_roles
from fairway_chassis.db import SessionDep
from fairway_chassis.errors import API_ERRORS, error_responses
from fairway_chassis.periodic import run_every
from fairway_events.state_topics import StatePublisher

Admin = Annotated[Principal, require_roles("admin")]


class StateCounts(BaseModel):
    topics: dict[str, int] = Field(description="rows per state topic: flagged now (reannounce) or still pending")


def publishers(request: Request) -> list[StatePublisher]:
    return request.app.state.state_publishers  # type: ignore[no-any-return]


Publishers = Annotated[list[StatePublisher], Depends(publishers)]
router = APIRouter(prefix="/api/v1/admin/state", tags=["state topics"], responses=error_responses(*API_ERRORS))


@router.post("/reannounce", response_model=StateCounts)
async def reannounce(principal: Admin, session: SessionDep, pubs: Publishers) -> StateCounts:
    """Announce every current snapshot of the caller's tenant again on the service's state topics."""
    return StateCounts(topics={p.state.topic: await p.reannounce(session, principal.tenant_id) for p in pubs})


@router.get("", response_model=StateCounts)
async def pending(principal: Admin, session: SessionDep, pubs: Publishers) -> StateCounts:
    """The caller's rows not yet announced, per state topic (0 everywhere: every snapshot is out)."""
    return StateCounts(topics={p.state.topic: await p.pending(session, principal.tenant_id) for p in pubs})


def publish_loop(pubs: list[StatePublisher], interval: float) -> Any:
    async def hook(runtime: Any) -> None:
        async def once() -> None:
            for p in pubs:
                await p.publish_pending(runtime.sessionmaker)

        await run_every("state-publisher", interval, once, run_at_start=True)

    return hook
