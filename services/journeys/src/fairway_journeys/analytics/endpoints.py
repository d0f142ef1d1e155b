"""GET /api/v1/journeys/{id}/analytics and /suggestions."""
from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Query, Request

from fairway_chassis import SessionDep, error_responses
from fairway_events.rpc import RpcError
from fairway_journeys.analytics import service
from fairway_journeys.analytics.schemas import Analytics, Suggestions
from fairway_journeys.api import AiTimeoutDep, JourneyIdPath, Reader
from fairway_journeys.definitions import service as definitions
from fairway_journeys.definitions.model import Definition
from fairway_journeys.definitions.repository import JourneyRepository
from fairway_schemas.ai import AI_REQUEST_TOPIC, JourneyInsightsRequest

router = APIRouter(prefix="/api/v1/journeys", tags=["analytics"], responses=error_responses(401, 403, 404))
log = structlog.get_logger("fairway.journeys.analytics")


@router.get("/{journey_id}/analytics", response_model=Analytics)
async def journey_analytics(journey_id: JourneyIdPath, session: SessionDep, principal: Reader) -> Analytics:
    """Per version and step (in definition order, so each version's steps read as a funnel)."""
    await definitions.get(JourneyRepository(session, principal.tenant_id), journey_id)
    return await service.analytics(session, principal.tenant_id, journey_id)


@router.get("/{journey_id}/suggestions", response_model=Suggestions)
async def journey_suggestions(journey_id: JourneyIdPath, session: SessionDep, timeout: AiTimeoutDep, principal: Reader,
                              request: Request, version: Annotated[int | None, Query(ge=1)] = None) -> Suggestions:
    """Rule-based suggestions with their evidence and expected effect, plus the AI gateway's insights (operation
    journey.insights) when it answers in time."""
    repo = JourneyRepository(session, principal.tenant_id)
    j = await definitions.get(repo, journey_id)
    v = version or j.active_version or j.latest_version
    found = await repo.version(journey_id, v) if v else None
    if found is None:
        return Suggestions(journeyId=journey_id, version=None, suggestions=[], insights=[], insightsSource=None)
    stats = await service.analytics(session, principal.tenant_id, journey_id)
    vs = next((x for x in stats.versions if x.version == v), None)
    if vs is None:
        return Suggestions(journeyId=journey_id, version=v, suggestions=[], insights=[], insightsSource=None)
    rules = service.suggest(Definition.model_validate(found.definition), vs)
    insights, source = [], "UNAVAILABLE"
    rpc = request.app.state.runtime.rpc
    if rpc is not None:
        try:
            reply = await rpc.request(AI_REQUEST_TOPIC, "journey.insights", principal.tenant_id, JourneyInsightsRequest(
                journeyName=j.name, goal=j.goal_text, stats=vs.model_dump(mode="json")).model_dump(mode="json"),
                timeout=timeout)
            insights, source = list(reply.get("insights") or []), str(reply.get("source"))
        except RpcError as exc:  # the gateway is down or slow: the rule-based suggestions stand alone
            log.info("journey.insights unavailable", error=repr(exc))
    return Suggestions(journeyId=journey_id, version=v, suggestions=rules, insights=insights, insightsSource=source)
