"""Journey lifecycle: drafts are edited freely (but always valid); activating an edited journey freezes a new
version, which new runs enter while runs in flight finish on the version they entered."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import Conflict, NotFound
from fairway_events import Envelope, new_event_id, outbox, registry
from fairway_events.contracts.journeys import JourneyActivated, JourneyPaused, JourneyVersionCreated
from fairway_journeys.definitions import validation
from fairway_journeys.definitions.errors import InvalidJourney
from fairway_journeys.definitions.repository import Journey, JourneyRepository
from fairway_journeys.definitions.schemas import JourneyIn, JourneyOut, JourneyPatch

SOURCE = "journeys"


def checked(raw: dict[str, Any]) -> dict[str, Any]:
    """The definition in its canonical JSON form, or InvalidJourney naming each problem."""
    try:
        return validation.check(raw).dump()
    except validation.InvalidDefinition as exc:
        raise InvalidJourney(exc.problems) from None


def event(tenant_id: str, journey_id: str, payload: BaseModel, at: datetime) -> Envelope:
    return registry.envelope(payload, tenant_id=tenant_id, aggregate_id=journey_id, source=SOURCE, occurred_at=at)


def out(j: Journey, active_definition: dict[str, Any] | None) -> JourneyOut:
    return JourneyOut(
        id=j.id, name=j.name, description=j.description, goalText=j.goal_text, status=j.status,  # type: ignore[arg-type]
        definition=j.definition, activeVersion=j.active_version, latestVersion=j.latest_version,
        hasUnpublishedChanges=active_definition != j.definition, origin=j.origin, createdAt=j.created_at,
        updatedAt=j.updated_at)


async def view(session: AsyncSession, tenant_id: str, journey: Journey) -> JourneyOut:
    latest = None
    if journey.latest_version:
        v = await JourneyRepository(session, tenant_id).version(journey.id, journey.latest_version)
        latest = v.definition if v else None
    return out(journey, latest)


async def get(repo: JourneyRepository, journey_id: str, *, for_update: bool = False) -> Journey:
    j = await repo.get(journey_id, for_update=for_update)
    if j is None:
        raise NotFound(f"no journey {journey_id!r}")
    return j


async def create(session: AsyncSession, tenant_id: str, author: str, body: JourneyIn, now: datetime,
                 *, origin: str = "USER") -> Journey:
    j = Journey(tenant_id=tenant_id, id=new_event_id(), name=body.name, description=body.description,
                goal_text=body.goalText, status="DRAFT", definition=checked(body.definition), active_version=None,
                latest_version=0, origin=origin, created_by=author, created_at=now, updated_at=now)
    await JourneyRepository(session, tenant_id).add(j)
    return j


async def change(session: AsyncSession, tenant_id: str, journey_id: str, body: JourneyPatch, now: datetime) -> Journey:
    repo = JourneyRepository(session, tenant_id)
    j = await get(repo, journey_id, for_update=True)
    if j.status == "ARCHIVED":
        raise Conflict(f"journey {journey_id!r} is archived; archived journeys are not edited")
    values: dict[str, Any] = {"updated_at": now}
    if body.name is not None:
        values["name"] = body.name
    if "description" in body.model_fields_set:
        values["description"] = body.description
    if "goalText" in body.model_fields_set:
        values["goal_text"] = body.goalText
    if body.definition is not None:
        values["definition"] = checked(body.definition)
    await repo.update(journey_id, **values)
    return await get(repo, journey_id)


async def activate(session: AsyncSession, tenant_id: str, journey_id: str, now: datetime) -> Journey:
    """Freeze the definition as a new version if it changed since the last one, and let new runs enter it."""
    repo = JourneyRepository(session, tenant_id)
    j = await get(repo, journey_id, for_update=True)
    if j.status == "ARCHIVED":
        raise Conflict(f"journey {journey_id!r} is archived and cannot be activated")
    definition = checked(j.definition)  # the rules may have tightened since it was saved
    latest = await repo.version(journey_id, j.latest_version) if j.latest_version else None
    events: list[Envelope] = []
    version = j.latest_version
    if latest is None or latest.definition != definition:
        version += 1
        await repo.add_version(journey_id, version, definition, now)
        events.append(event(tenant_id, journey_id, JourneyVersionCreated(
            journeyId=journey_id, version=version, name=j.name, stepCount=len(definition["steps"]),
            triggerType=definition["trigger"]["type"]), now))
    if j.status == "ACTIVE" and j.active_version == version:
        return j  # nothing changed: activating twice is harmless
    await repo.update(journey_id, status="ACTIVE", active_version=version, latest_version=version, updated_at=now)
    events.append(event(tenant_id, journey_id, JourneyActivated(journeyId=journey_id, version=version, name=j.name),
                        now))
    await outbox.append_many(session, events)
    return await get(repo, journey_id)


async def pause(session: AsyncSession, tenant_id: str, journey_id: str, now: datetime) -> Journey:
    """No new runs enter a paused journey; runs in flight go on (a paused welcome series still finishes)."""
    repo = JourneyRepository(session, tenant_id)
    j = await get(repo, journey_id, for_update=True)
    if j.status != "ACTIVE":
        raise Conflict(f"only an active journey can be paused (this one is {j.status})")
    await repo.update(journey_id, status="PAUSED", updated_at=now)
    await outbox.append(session, event(tenant_id, journey_id, JourneyPaused(
        journeyId=journey_id, version=j.active_version, name=j.name), now))
    return await get(repo, journey_id)


async def archive(session: AsyncSession, tenant_id: str, journey_id: str, now: datetime) -> Journey:
    """No new runs; runs in flight are exited (reason ARCHIVED) by the engine's sweep, in batches."""
    repo = JourneyRepository(session, tenant_id)
    j = await get(repo, journey_id, for_update=True)
    if j.status != "ARCHIVED":
        await repo.update(journey_id, status="ARCHIVED", updated_at=now)
    return await get(repo, journey_id)


async def remove(session: AsyncSession, tenant_id: str, journey_id: str) -> None:
    repo = JourneyRepository(session, tenant_id)
    j = await get(repo, journey_id, for_update=True)
    if j.latest_version:
        raise Conflict(f"journey {journey_id!r} has run; archive it instead of deleting it")
    await repo.delete(journey_id)
