"""The storage rules underneath the consumer, against the service's own migrated database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from uuid_utils.compat import uuid7

from fairway_chassis import ManualClock
from fairway_chassis.db import migrate
from fairway_events import Delivery, registry
from fairway_events.contracts.identity import ProfileCreated
from fairway_events.envelope import decode_raw
from fairway_testkit import TEST_JWT_SECRET, upstream_event
from fairway_timeline.activities.records import NewActivity
from fairway_timeline.activities.repository import ActivityBatchRepository
from fairway_timeline.app import MIGRATIONS
from fairway_timeline.counters.repository import CountersBatchRepository
from fairway_timeline.counters.service import sweep_once
from fairway_timeline.db import activities, activity_key_waits
from fairway_timeline.identity_map.keys import Key
from fairway_timeline.ingest.handler import TimelineIngest
from fairway_timeline.settings import Settings

T = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await migrate(MIGRATIONS, database_url)
    engine = create_async_engine(database_url)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


def _activity(
    source_event_id: str, *, profile_id: str | None = "p-1", type_: str = "ROUND_PLAYED", at: datetime = T
) -> NewActivity:
    return NewActivity(
        id=uuid7(),
        tenant_id="club-a",
        type=type_,
        category="GOLF",
        title="Played 18 holes",
        source_service="teetime",
        source_event_id=source_event_id,
        occurred_at=at,
        payload={},
        counts=True,
        profile_id=profile_id,
    )


async def test_one_activity_per_tenant_source_and_event_id(sessions) -> None:  # noqa: ANN001
    async with sessions() as s, s.begin():
        repo = ActivityBatchRepository(s)
        first = _activity("e-1")
        assert await repo.insert([first, _activity("e-1")], T) == {first.id}  # a duplicate inside one batch
        assert await repo.insert([_activity("e-1")], T) == set()  # and a later redelivery
        other_source = _activity("e-1")
        other_source.source_service = "scl"
        other_tenant = _activity("e-1")
        other_tenant.tenant_id = "club-b"
        assert await repo.insert([other_source, other_tenant], T) == {other_source.id, other_tenant.id}
        assert (await s.execute(select(func.count()).select_from(activities))).scalar_one() == 3


async def test_rolling_windows_are_exact_to_the_microsecond(sessions) -> None:  # noqa: ANN001
    async with sessions() as s, s.begin():
        await ActivityBatchRepository(s).insert(
            [_activity("e-1"), _activity("e-2", type_="BOOKING_CREATED", at=T + timedelta(days=5))], T
        )
        repo = CountersBatchRepository(s)
        ref = ("club-a", "p-1")
        inside = (await repo.compute([ref], T + timedelta(days=30, microseconds=-1)))[ref]
        assert inside.values["roundsPlayed30d"] == 1 and inside.values["activityCount30d"] == 2
        assert inside.next_change_at == T + timedelta(days=30)
        out = (await repo.compute([ref], T + timedelta(days=30)))[ref]
        assert out.values["roundsPlayed30d"] == 0 and out.values["roundsPlayed90d"] == 1
        assert out.values["bookingCount30d"] == 1 and out.next_change_at == T + timedelta(days=35)
        gone = (await repo.compute([ref], T + timedelta(days=200)))[ref]
        assert gone.values["activityCount90d"] == 0 and gone.next_change_at is None
        assert gone.values["lastRoundAt"] == "2025-01-10T09:00:00Z"
        assert gone.values["lastActivityType"] == "BOOKING_CREATED"


async def test_a_pending_event_and_its_identity_event_in_parallel_transactions(sessions) -> None:  # noqa: ANN001
    """The race that would strand an activity: a batch parks an event as pending while another batch links its
    key. The tenant lock makes the second wait for the first, so it sees the pending row and attaches it."""
    ingest = TimelineIngest(Settings(jwt_secret=TEST_JWT_SECRET), ManualClock(T))
    booking = registry.validate(
        decode_raw(
            upstream_event(
                "teetime.booking.created", "club-a", {"email": "ann@club.com"}, {"bookingId": "b1"}, at=T
            )
        )
    )
    created = registry.envelope(
        ProfileCreated.model_validate(
            {
                "profile": {
                    "profileId": "p-ann",
                    "status": "ACTIVE",
                    "identities": {"email": ["ann@club.com"]},
                    "attributes": {},
                    "consent": {},
                }
            }
        ),
        tenant_id="club-a",
        aggregate_id="p-ann",
        source="identity",
    )

    first = sessions()
    await first.begin()
    await ingest(first, [Delivery(booking, {})])  # pending, not committed yet

    async def second() -> None:
        async with sessions() as s, s.begin():
            await ingest(s, [Delivery(created, {})])

    task = asyncio.create_task(second())
    await asyncio.sleep(0.5)
    assert not task.done()  # waiting for the tenant lock
    await first.commit()
    await first.close()
    await asyncio.wait_for(task, 10)
    async with sessions() as s:
        rows = (await s.execute(select(activities.c.profile_id, activities.c.type))).all()
    assert [tuple(r) for r in rows] == [("p-ann", "BOOKING_CREATED")]


async def test_sweep_purges_pending_activities_identity_never_claims(sessions) -> None:  # noqa: ANN001
    async with sessions() as s, s.begin():
        repo = ActivityBatchRepository(s)
        waiting, resolved = _activity("e-1", profile_id=None), _activity("e-2")
        await repo.insert([waiting, resolved], T)
        await repo.add_waits([(waiting.id, "club-a", Key(1, "email", "who@club.com"))], T)
    clock = ManualClock(T + timedelta(hours=71))
    ttl, keep = timedelta(hours=72), timedelta(days=30)
    await sweep_once(sessions, clock, pending_ttl=ttl, erased_key_retention=keep)
    async with sessions() as s:
        assert (await s.execute(select(func.count()).select_from(activity_key_waits))).scalar_one() == 1
    clock.advance(timedelta(hours=2))
    await sweep_once(sessions, clock, pending_ttl=ttl, erased_key_retention=keep)
    async with sessions() as s:
        rows = (await s.execute(select(activities.c.source_event_id))).scalars().all()
        assert rows == ["e-2"]
        assert (await s.execute(select(func.count()).select_from(activity_key_waits))).scalar_one() == 0
