"""Repositories built for one tenant cannot read or change another tenant's notes, identity map, activities or
counters, even when handed their ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from uuid_utils.compat import uuid7

from fairway_chassis.db import migrate
from fairway_timeline.activities.records import NewActivity
from fairway_timeline.activities.repository import ActivityBatchRepository, ActivityRepository, TimelineQuery
from fairway_timeline.app import MIGRATIONS
from fairway_timeline.counters.repository import CountersBatchRepository, CountersRepository
from fairway_timeline.db import activities, notes, profile_keys, profiles
from fairway_timeline.identity_map.keys import Key
from fairway_timeline.identity_map.repository import ProfileBatchRepository, ProfileRepository
from fairway_timeline.notes.repository import Note, NoteRepository

T = datetime(2026, 11, 21, 7, 30, tzinfo=UTC)
FAIRWAY, STONEHAVEN = "fairwaygolf", "stonehaven"


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    await migrate(MIGRATIONS, database_url)
    engine = create_async_engine(database_url, pool_size=1)
    async with async_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


async def test_a_tenants_note_repository_neither_reads_nor_changes_another_tenants_notes(session: AsyncSession) -> None:
    note = Note(uuid.uuid4(), "p1", "GENERAL", "Prefers early tee times", False, False, "pro@stonehavengolf.co.uk", T, T)
    await NoteRepository.for_tenant(session, STONEHAVEN).add(note)
    mine = NoteRepository.for_tenant(session, FAIRWAY)

    assert await mine.visible("p1", "pro@stonehavengolf.co.uk") == []
    assert await mine.get_visible("p1", note.id, "pro@stonehavengolf.co.uk") is None
    await mine.update(note.id, {"content": "Taken over"})
    await mine.move_all("p1", "p2")
    assert await mine.delete_for_profiles(["p1"]) == 0
    await mine.delete(note.id)

    assert await NoteRepository.for_tenant(session, STONEHAVEN).visible("p1", "pro@stonehavengolf.co.uk") == [note]
    assert (await session.execute(select(func.count()).select_from(notes))).scalar() == 1


async def test_a_tenants_identity_map_neither_reads_nor_changes_another_tenants_profiles(session: AsyncSession) -> None:
    theirs = ProfileRepository.for_tenant(session, STONEHAVEN)
    await theirs.ensure("p1")
    key = Key(1, "email", "hamish@stonehavengolf.co.uk")
    await theirs.upsert_keys([key], "p1")
    mine = ProfileRepository.for_tenant(session, FAIRWAY)

    assert await mine.status("p1") is None and await mine.canonical("p1") is None
    assert await mine.keys_of(["p1"]) == []
    their_keys = await theirs.keys_of(["p1"])
    await mine.delete_keys([k.id for k in their_keys])
    await mine.keep_only_keys("p1", [])
    await mine.repoint_keys("p1", "p2")
    await mine.mark_erased(["p1"])

    assert await theirs.status("p1") == "ACTIVE" and await theirs.keys_of(["p1"]) == their_keys
    assert (await session.execute(select(func.count()).select_from(profiles))).scalar() == 1
    assert (await session.execute(select(func.count()).select_from(profile_keys))).scalar() == 1
    batch = ProfileBatchRepository(session)
    assert await batch.lookup([(FAIRWAY, "email", key.value)]) == {}
    assert set(await batch.lookup([(STONEHAVEN, "email", key.value)])) == {(STONEHAVEN, "email", key.value)}


def _activity(tenant_id: str, source_event_id: str, profile_id: str | None = "p1") -> NewActivity:
    return NewActivity(
        id=uuid7(), tenant_id=tenant_id, type="ROUND_PLAYED", category="GOLF", title="Played 18 holes",
        source_service="teetime", source_event_id=source_event_id, occurred_at=T, payload={}, counts=True,
        profile_id=profile_id,
    )


async def test_a_tenants_activities_and_counters_are_out_of_another_tenants_reach(session: AsyncSession) -> None:
    theirs = _activity(STONEHAVEN, "r-1")
    pending = _activity(STONEHAVEN, "r-2", profile_id=None)
    batch = ActivityBatchRepository(session)
    await batch.insert([theirs, pending], T)
    key = Key(1, "email", "hamish@stonehavengolf.co.uk")
    await batch.add_waits([(pending.id, STONEHAVEN, key)], T)
    await CountersBatchRepository(session).save(
        [((STONEHAVEN, "p1"), (await CountersBatchRepository(session).compute([(STONEHAVEN, "p1")], T))[(STONEHAVEN, "p1")])],
        T,
    )
    await ProfileRepository.for_tenant(session, STONEHAVEN).ensure("p1")
    await ProfileRepository.for_tenant(session, STONEHAVEN).upsert_keys([key], "p1")
    mine = ActivityRepository.for_tenant(session, FAIRWAY)

    page = await mine.timeline(TimelineQuery(profile_id="p1", viewer="pro@fairwaygolf.co.za"), 50, None)
    assert page.items == [] and await mine.pending_count() == 0
    assert await mine.waits_matching([key]) == []
    assert await mine.move_all("p1", "p2") == 0
    assert await mine.move_back("p1", "p2", ["p1"]) == 0
    assert await mine.delete_waiting_on([(key.key_type, key.value)]) == 0
    assert await mine.delete_for_profiles(["p1"]) == 0
    await mine.forget_totals(["p1"])
    with pytest.raises(ValueError, match="another tenant"):
        await mine.add(_activity(STONEHAVEN, "r-3"), T)
    assert await CountersRepository.for_tenant(session, FAIRWAY).get("p1") is None

    ours = ActivityRepository.for_tenant(session, STONEHAVEN)
    assert [a.id for a in (await ours.timeline(TimelineQuery(profile_id="p1", viewer="x"), 50, None)).items] == [
        theirs.id]
    assert await ours.pending_count() == 1 and len(await ours.waits_matching([key])) == 1
    assert await CountersRepository.for_tenant(session, STONEHAVEN).get("p1") is not None
    assert (await session.execute(select(func.count()).select_from(activities))).scalar() == 2
