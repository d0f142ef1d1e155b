"""POST /api/v1/journeys/generate."""
from __future__ import annotations

from fastapi import APIRouter, Request

from fairway_chassis import SessionDep, error_responses
from fairway_journeys.api import ClockDep, StateDep, Writer
from fairway_journeys.generate.service import GenerateIn, GenerateOut, generate

router = APIRouter(prefix="/api/v1/journeys", tags=["journeys"], responses=error_responses(401, 403, 422))


@router.post("/generate", response_model=GenerateOut, status_code=201)
async def generate_journey(body: GenerateIn, session: SessionDep, clock: ClockDep, state: StateDep,
                           principal: Writer, request: Request) -> GenerateOut:
    """A draft journey for a goal, generated through the AI gateway, or a template when it cannot answer."""
    return await generate(session, request.app.state.runtime.rpc, principal.tenant_id, principal.subject, body,
                          clock.now(), state.settings.ai_timeout_seconds)
