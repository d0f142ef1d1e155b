"""Runs: enrolment by API or CSV, a journey's runs, and a member's runs with where each is and why."""
from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from fairway_chassis import Conflict, CursorCodec, SessionDep, Unprocessable, error_responses, paginate
from fairway_journeys.api import ClockDep, JourneyIdPath, ProfileIdPath, Reader, Writer, run_deps
from fairway_journeys.definitions import service as definitions
from fairway_journeys.definitions.repository import JourneyRepository
from fairway_journeys.runs import service
from fairway_journeys.runs.deps import RunDeps
from fairway_journeys.runs.model import Run
from fairway_journeys.runs.repository import RunRepository
from fairway_journeys.runs.schemas import EnrolIn, EnrolOut, RunOut, RunPage, RunStatus

DepsDep = Annotated[RunDeps, Depends(run_deps)]
router = APIRouter(prefix="/api/v1", tags=["runs"], responses=error_responses(401, 403, 404, 409, 422))
CURSOR = CursorCodec(uuid.UUID)  # a run's id (UUIDv7): a cursor holding anything else is a 422 "cursor"


def _after(cursor: str | None) -> str | None:
    after = CURSOR.decode(cursor)
    return str(after) if after is not None else None

_SPLIT = re.compile(r"[\s,;]+")


@router.post("/journeys/{journey_id}/enrol", response_model=EnrolOut)
async def enrol(journey_id: JourneyIdPath, body: EnrolIn, session: SessionDep, clock: ClockDep, deps: DepsDep,
                principal: Writer) -> EnrolOut:
    """Enrol members by id (or a pasted CSV of ids). Each either starts a run or is listed with the reason not."""
    j = await definitions.get(JourneyRepository(session, principal.tenant_id), journey_id)
    if j.status != "ACTIVE" or j.active_version is None:
        raise Conflict(f"journey {journey_id!r} is {j.status}; only an active journey takes members")
    ids = list(dict.fromkeys([*body.profileIds, *(x for x in _SPLIT.split(body.csv or "") if x)]))
    if not ids:
        raise Unprocessable("no profile ids given", field="profileIds")
    if any(len(i) > 200 for i in ids):
        raise Unprocessable("a profile id is at most 200 characters", field="csv")
    key = f"api:{body.entryKey}" if body.entryKey else None
    result = await service.enrol(session, deps, principal.tenant_id, [
        service.Candidate(journey_id=j.id, version=j.active_version, profile_id=p, entry_key=key, trigger="api")
        for p in ids], clock.now())
    return EnrolOut(started=[r.id for r in result.started], refused=result.refused)


@router.get("/journeys/{journey_id}/runs", response_model=RunPage)
async def journey_runs(journey_id: JourneyIdPath, session: SessionDep, deps: DepsDep, principal: Reader,
                       status: Annotated[RunStatus | None, Query()] = None,
                       cursor: Annotated[str | None, Query()] = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> RunPage:
    await definitions.get(JourneyRepository(session, principal.tenant_id), journey_id)
    rows = await RunRepository(session, principal.tenant_id).page(journey_id, None, status, _after(cursor), limit + 1)
    page = paginate(rows, limit, CURSOR, key=lambda r: uuid.UUID(r.id))
    return RunPage(items=await _out(session, deps, principal.tenant_id, page.items), nextCursor=page.next_cursor)


@router.get("/customers/{profile_id}/journeys", response_model=RunPage)
async def member_runs(profile_id: ProfileIdPath, session: SessionDep, deps: DepsDep, principal: Reader,
                      status: Annotated[RunStatus | None, Query()] = None,
                      cursor: Annotated[str | None, Query()] = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> RunPage:
    """A member's runs, newest first, each with the step it is on and why it is there."""
    rows = await service.member_runs(session, principal.tenant_id, profile_id, status, _after(cursor), limit + 1)
    page = paginate(rows, limit, CURSOR, key=lambda r: uuid.UUID(r.id))
    return RunPage(items=await _out(session, deps, principal.tenant_id, page.items), nextCursor=page.next_cursor)


async def _out(session: SessionDep, deps: DepsDep, tenant_id: str, runs: list[Run]) -> list[RunOut]:
    due = await RunRepository(session, tenant_id).due_of([r.id for r in runs if r.active])
    out = []
    for r in runs:
        d = await deps.versions.get(session, tenant_id, r.journey_id, r.version)
        step = d.step(r.step_id) if d and r.step_id else None
        out.append(RunOut(
            id=r.id, journeyId=r.journey_id, version=r.version, profileId=r.profile_id, status=r.status,  # type: ignore[arg-type]
            stepId=r.step_id, stepType=step.type if step else None, waiting=r.waiting, waitingUntil=due.get(r.id),
            why=service.explain(r, step, due.get(r.id)), startedAt=r.started_at, endedAt=r.ended_at,
            endReason=r.end_reason))
    return out
