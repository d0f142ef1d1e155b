"""POST /segments/nl: a segment drafted from a sentence (the AI gateway over Kafka request/reply)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from fairway_chassis import Principal, SessionDep, error_responses, require_roles, runtime_state
from fairway_segmentation.nl.service import NlIn, NlOut, build
from fairway_segmentation.state import SegmentationState

Writer = Annotated[Principal, require_roles("marketer")]
StateDep = Annotated[SegmentationState, Depends(runtime_state(SegmentationState))]

# Mounted before the segments router, so "/nl" is never taken for a segment id.
router = APIRouter(prefix="/api/v1/segments", tags=["segments"])


@router.post("/nl", responses=error_responses(502, 503, 504), response_model=NlOut)
async def natural_language(
    body: NlIn, request: Request, state: StateDep, session: SessionDep, principal: Writer
) -> NlOut:
    runtime = request.app.state.runtime
    return await build(
        session,
        principal,
        body,
        rpc=runtime.rpc,
        now=state.clock.now(),
        timeout=runtime.settings.ai_timeout_seconds,
    )
