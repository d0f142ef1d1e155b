"""/api/v1/journeys: definitions, versions and lifecycle."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from fairway_chassis import CursorCodec, SessionDep, error_responses, paginate
from fairway_journeys.api import ClockDep, JourneyIdPath, Reader, Writer
from fairway_journeys.definitions import service
from fairway_journeys.definitions.repository import JourneyRepository
from fairway_journeys.definitions.schemas import (
    JourneyIn,
    JourneyOut,
    JourneyPage,
    JourneyPatch,
    Status,
    VersionOut,
)

router = APIRouter(prefix="/api/v1/journeys", tags=["journeys"], responses=error_responses(401, 403, 404, 409, 422))
CURSOR = CursorCodec(uuid.UUID)  # a journey's id (UUIDv7): a cursor holding anything else is a 422 "cursor"


@router.post("", response_model=JourneyOut, status_code=201)
async def create_journey(body: JourneyIn, session: SessionDep, clock: ClockDep,
                         principal: Writer) -> JourneyOut:
    """Save a draft. The definition is validated now: a 422 names each step at fault and what is wrong."""
    j = await service.create(session, principal.tenant_id, principal.subject, body, clock.now())
    return await service.view(session, principal.tenant_id, j)


@router.get("", response_model=JourneyPage)
async def list_journeys(session: SessionDep, principal: Reader,
                        status: Annotated[Status | None, Query()] = None,
                        cursor: Annotated[str | None, Query()] = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50) -> JourneyPage:
    """Newest first; pass `nextCursor` back as `cursor` for the next page."""
    rows = await JourneyRepository(session, principal.tenant_id).page(
        status=status, after=str(after) if (after := CURSOR.decode(cursor)) else None, limit=limit + 1)
    page = paginate(rows, limit, CURSOR, key=lambda j: uuid.UUID(j.id))
    items = [await service.view(session, principal.tenant_id, j) for j in page.items]
    return JourneyPage(items=items, nextCursor=page.next_cursor)


@router.get("/{journey_id}", response_model=JourneyOut)
async def get_journey(journey_id: JourneyIdPath, session: SessionDep, principal: Reader) -> JourneyOut:
    j = await service.get(JourneyRepository(session, principal.tenant_id), journey_id)
    return await service.view(session, principal.tenant_id, j)


@router.patch("/{journey_id}", response_model=JourneyOut)
async def change_journey(journey_id: JourneyIdPath, body: JourneyPatch, session: SessionDep, clock: ClockDep,
                         principal: Writer) -> JourneyOut:
    """Edit; an active journey keeps running its current version until it is activated again."""
    j = await service.change(session, principal.tenant_id, journey_id, body, clock.now())
    return await service.view(session, principal.tenant_id, j)


@router.delete("/{journey_id}", status_code=204)
async def delete_journey(journey_id: JourneyIdPath, session: SessionDep, principal: Writer) -> Response:
    """Only a journey that never ran; archive the others."""
    await service.remove(session, principal.tenant_id, journey_id)
    return Response(status_code=204)


@router.get("/{journey_id}/versions", response_model=list[VersionOut])
async def list_versions(journey_id: JourneyIdPath, session: SessionDep,
                        principal: Reader) -> list[VersionOut]:
    repo = JourneyRepository(session, principal.tenant_id)
    await service.get(repo, journey_id)
    return [VersionOut(version=v.version, definition=v.definition, createdAt=v.created_at)
            for v in await repo.versions(journey_id)]


@router.post("/{journey_id}/activate", response_model=JourneyOut)
async def activate_journey(journey_id: JourneyIdPath, session: SessionDep, clock: ClockDep,
                           principal: Writer) -> JourneyOut:
    j = await service.activate(session, principal.tenant_id, journey_id, clock.now())
    return await service.view(session, principal.tenant_id, j)


@router.post("/{journey_id}/pause", response_model=JourneyOut)
async def pause_journey(journey_id: JourneyIdPath, session: SessionDep, clock: ClockDep,
                        principal: Writer) -> JourneyOut:
    j = await service.pause(session, principal.tenant_id, journey_id, clock.now())
    return await service.view(session, principal.tenant_id, j)


@router.post("/{journey_id}/archive", response_model=JourneyOut)
async def archive_journey(journey_id: JourneyIdPath, session: SessionDep, clock: ClockDep,
                          principal: Writer) -> JourneyOut:
    j = await service.archive(session, principal.tenant_id, journey_id, clock.now())
    return await service.view(session, principal.tenant_id, j)
