"""POST /api/v1/journeys/generate."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from fairway_chassis import SessionDep, error_responses
from fairway_journeys.api import AiTimeoutDep, ClockDep, Reader, Writer
from fairway_journeys.generate.service import GenerateIn, GenerateOut, generate
from fairway_journeys.generate.templates import TEMPLATES, definition_of

router = APIRouter(prefix="/api/v1/journeys", tags=["journeys"], responses=error_responses(401, 403, 422))


@router.post("/generate", response_model=GenerateOut, status_code=201)
async def generate_journey(body: GenerateIn, session: SessionDep, clock: ClockDep, timeout: AiTimeoutDep,
                           principal: Writer, request: Request) -> GenerateOut:
    """A draft journey for a goal, generated through the AI gateway, or a template when it cannot answer."""
    return await generate(session, request.app.state.runtime.rpc, principal.tenant_id, principal.subject, body,
                          clock.now(), timeout)


class TemplateOut(BaseModel):
    key: str
    name: str
    goal: str
    definition: dict[str, Any]


@router.get("/templates", response_model=list[TemplateOut])
async def journey_templates(principal: Reader) -> list[TemplateOut]:
    """Ready-made journeys for the goals clubs ask for most (welcome, lapsed, renewal, birthday, competition): a
    starting point to save as a draft and adapt."""
    return [TemplateOut(key=t.key, name=t.name, goal=t.goal, definition=definition_of(t)) for t in TEMPLATES]
