"""Drives the journeys engine against a real database: journeys saved and activated through the service layer,
events fed to the service's own consumer handler (as the consumer would, one transaction per batch), timers fired
by the job the worker runs. Time is a ManualClock, so days pass in a test."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fairway_chassis import ManualClock
from fairway_events import Delivery, Envelope, registry
from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileCreated, ProfileSnapshot
from fairway_journeys import jobs
from fairway_journeys.definitions import service as definitions
from fairway_journeys.definitions.schemas import JourneyIn, JourneyPatch
from fairway_journeys.runs import service as runs
from fairway_journeys.settings import Settings
from fairway_journeys.state import JourneysState
from fairway_journeys.triggers.handlers import make_handler


def fairway_event(payload: Any, tenant: str, aggregate_id: str, at: datetime | None = None) -> Envelope:
    return registry.envelope(payload, tenant_id=tenant, aggregate_id=aggregate_id, source="tests", occurred_at=at)


def upstream(event_type: str, tenant: str, identity: dict[str, Any], payload: dict[str, Any],
             at: datetime | None = None) -> Envelope:
    spec = registry.latest(event_type)
    model = spec.model.model_validate({"identity": identity, "payload": payload})
    return Envelope(event_type=event_type, version=spec.version, tenant_id=tenant, aggregate_id=next(iter(
        identity.values())), source=event_type.split(".")[0], payload=model, **({"occurred_at": at} if at else {}))


def member(profile_id: str, email: str, **attributes: Any) -> ProfileCreated:
    return ProfileCreated(profile=ProfileSnapshot(
        profileId=profile_id, status="ACTIVE", identities=Identities(email=[email]),
        attributes=Attributes(**attributes), consent=Consent(emailOptIn=True)))


class Harness:
    def __init__(self, engine: AsyncEngine, settings: Settings, start: datetime) -> None:
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.clock = ManualClock(start)
        self.state = JourneysState(settings=settings, clock=self.clock)
        self.handler = make_handler(self.clock, self.state.deps)
        self.ctx = jobs.JobContext(sessions=self.sessions, state=self.state)

    async def journey(self, tenant: str, name: str, definition: dict[str, Any]) -> str:
        async with self.sessions() as s, s.begin():
            j = await definitions.create(s, tenant, "marketer@stonehavengolf.co.uk",
                                         JourneyIn(name=name, definition=definition), self.clock.now())
            await definitions.activate(s, tenant, j.id, self.clock.now())
        return j.id

    async def edit_and_activate(self, tenant: str, journey_id: str, definition: dict[str, Any]) -> None:
        async with self.sessions() as s, s.begin():
            await definitions.change(s, tenant, journey_id, JourneyPatch(definition=definition), self.clock.now())
            await definitions.activate(s, tenant, journey_id, self.clock.now())

    async def feed(self, *envelopes: Envelope) -> None:
        async with self.sessions() as s, s.begin():
            await self.handler(s, [Delivery(envelope=e, headers={}) for e in envelopes])

    async def enrol(self, tenant: str, journey_id: str, *profile_ids: str, key: str | None = None
                    ) -> runs.EnrolResult:
        async with self.sessions() as s, s.begin():
            version = (await s.execute(text("SELECT active_version FROM journeys WHERE id = :j"),
                                       {"j": journey_id})).scalar_one()
            return await runs.enrol(s, self.state.deps, tenant, [
                runs.Candidate(journey_id=journey_id, version=version, profile_id=p, entry_key=key, trigger="api")
                for p in profile_ids], self.clock.now())

    async def fire(self, tenant: str) -> int:
        return await jobs.fire_all_due(self.ctx, tenant)

    async def advance(self, tenant: str, **delta: float) -> int:
        self.clock.advance(**delta)
        return await self.fire(tenant)

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.sessions() as s:
            return list((await s.execute(text(sql), params)).all())

    async def run_of(self, journey_id: str, profile_id: str) -> Any:
        rows = await self.rows("SELECT * FROM runs WHERE journey_id = :j AND profile_id = :p ORDER BY started_at DESC",
                               j=journey_id, p=profile_id)
        return rows[0] if rows else None

    async def steps(self, run_id: str) -> list[tuple[str, str | None]]:
        return [(r.step_id, r.outcome) for r in await self.rows(
            "SELECT step_id, outcome FROM run_steps WHERE run_id = :r ORDER BY seq", r=run_id)]

    async def published(self, event_type: str) -> list[dict[str, Any]]:
        import json

        return [json.loads(r.body)["payload"] for r in await self.rows(
            "SELECT body FROM event_outbox WHERE event_type = :t ORDER BY id", t=event_type)]


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


__all__ = ["Harness", "at", "date", "fairway_event", "member", "upstream"]
