"""A profile repository built for one tenant cannot read or change another tenant's rows, even handed their ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from fairway_chassis.db import migrate
from fairway_identity.app import MIGRATIONS
from fairway_identity.eventlog.events import LogRow
from fairway_identity.eventlog.repository import EventLogRepository
from fairway_identity.merge_records.candidates import Candidate
from fairway_identity.merge_records.repository import MergeRef, MergeRepository
from fairway_identity.privacy.repository import PrivacyRepository
from fairway_identity.profiles.repository import ProfileBatchRepository, ProfileRepository

FAIRWAY, STONEHAVEN = "fairwaygolf", "stonehaven"
T = datetime(2026, 11, 21, 7, 30, tzinfo=UTC)


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    await migrate(MIGRATIONS, database_url)
    engine = create_async_engine(database_url, pool_size=1)
    async with async_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


async def add_profile(session: AsyncSession, tenant: str, email: str, merged_into: str | None = None) -> str:
    pid = str(uuid.uuid4())
    await session.execute(
        text(
            "INSERT INTO profile (id, tenant_id, status, merged_into, identities) VALUES "
            "(CAST(:id AS uuid), :t, :st, CAST(:m AS uuid), CAST(:i AS jsonb))"
        ),
        {"id": pid, "t": tenant, "st": "MERGED" if merged_into else "ACTIVE", "m": merged_into,
         "i": f'{{"email": ["{email}"]}}'},
    )
    await session.execute(
        text("INSERT INTO identity_key (tenant_id, key_type, value, profile_id) VALUES (:t, 'email', :v, CAST(:p AS uuid))"),
        {"t": tenant, "v": email, "p": pid},
    )
    return pid


async def owner_of(session: AsyncSession, email: str) -> str:
    return str((await session.execute(text("SELECT profile_id FROM identity_key WHERE value = :v"), {"v": email})).scalar())


async def test_a_tenants_repository_neither_reads_nor_changes_another_tenants_profiles(session: AsyncSession) -> None:
    mine = await add_profile(session, FAIRWAY, "thandi@fairwaygolf.co.za")
    theirs = await add_profile(session, STONEHAVEN, "hamish@stonehavengolf.co.uk")
    their_loser = await add_profile(session, STONEHAVEN, "isla@stonehavengolf.co.uk", merged_into=theirs)
    repo = ProfileRepository.for_tenant(session, FAIRWAY)

    assert await repo.read(theirs) is None
    assert await repo.read_many([mine, theirs]) == {mine: await repo.read(mine)}
    assert await repo.root_of(their_loser) is None
    assert await repo.tree(theirs) == []
    assert await repo.key_rows(theirs) == []
    assert await repo.keys_of([theirs]) == {theirs: {}}
    assert set(await repo.lock_profiles([mine, theirs])) == {mine}
    assert await repo.owners([("email", "hamish@stonehavengolf.co.uk")]) == {}
    assert [p.id for p in await repo.search(statuses=["ACTIVE"], profile_ids=None, tier=None, tag=None, q=None,
                                            after=None, limit=10)] == [mine]

    await repo.move_keys([(their_loser, mine)])  # the other tenant's keys stay where they are
    await repo.set_keys(mine, {"email": ["hamish@stonehavengolf.co.uk"]})
    assert await owner_of(session, "isla@stonehavengolf.co.uk") == their_loser
    assert await owner_of(session, "hamish@stonehavengolf.co.uk") == theirs

    # Their profile, loaded by their repository, cannot be saved through ours.
    their_profile = (await ProfileRepository.for_tenant(session, STONEHAVEN).lock_profiles([theirs]))[theirs]
    with pytest.raises(ValueError, match="another tenant"):
        await repo.save_profiles([their_profile])


async def test_the_consumers_batch_repository_matches_each_id_on_the_tenant_it_came_with(session: AsyncSession) -> None:
    mine = await add_profile(session, FAIRWAY, "thandi@fairwaygolf.co.za")
    theirs = await add_profile(session, STONEHAVEN, "hamish@stonehavengolf.co.uk")
    batch = ProfileBatchRepository(session)

    assert set(await batch.lock_profiles([(FAIRWAY, mine), (FAIRWAY, theirs)])) == {mine}
    assert await batch.keys_of([(FAIRWAY, theirs)]) == {theirs: {}}
    await batch.move_keys([(FAIRWAY, theirs, mine)])
    assert await owner_of(session, "hamish@stonehavengolf.co.uk") == theirs


async def test_a_tenants_merge_and_privacy_repositories_leave_another_tenants_rows_alone(
    session: AsyncSession,
) -> None:
    winner = await add_profile(session, STONEHAVEN, "hamish@stonehavengolf.co.uk")
    loser = await add_profile(session, STONEHAVEN, "h.mcleod@stonehavengolf.co.uk", merged_into=winner)
    theirs = MergeRepository.for_tenant(session, STONEHAVEN)
    merge_id = str(uuid.uuid4())
    await theirs.insert_merges([{"id": merge_id, "winner_id": winner, "loser_id": loser, "seq": 1,
                                 "reason": "merged by staff", "evidence": None, "actor": "pro"}])
    (cid, _, _), = await theirs.upsert_candidates([Candidate(STONEHAVEN, (winner, loser), [{"key": "phone"}], [], "e1")],
                                                  [str(uuid.uuid4())])
    mine = MergeRepository.for_tenant(session, FAIRWAY)

    assert await mine.active_merge_of(loser) is None and await mine.latest_merge_into(winner) is None
    assert await mine.active_merges([winner]) == [] and await mine.history([winner, loser]) == []
    assert await mine.candidates_of([winner]) == [] and await mine.list_candidates("OPEN", None, 10) == []
    assert await mine.dismiss(cid, "pro@fairwaygolf.co.za") is None
    await mine.mark_undone(merge_id, "pro@fairwaygolf.co.za")
    await PrivacyRepository.for_tenant(session, FAIRWAY).erase([winner, loser], T)
    with pytest.raises(ValueError, match="another tenant"):
        await mine.upsert_candidates([Candidate(STONEHAVEN, (winner, loser), [], [], "e2")], [str(uuid.uuid4())])

    assert (await theirs.active_merge_of(loser)) == MergeRef(merge_id, winner, loser, 1)
    assert [c.status for c in await theirs.list_candidates("OPEN", None, 10)] == ["OPEN"]
    assert (await ProfileRepository.for_tenant(session, STONEHAVEN).read(winner)).status == "ACTIVE"  # type: ignore[union-attr]


async def test_a_tenants_event_log_neither_shows_nor_retags_another_tenants_events(session: AsyncSession) -> None:
    theirs = await add_profile(session, STONEHAVEN, "hamish@stonehavengolf.co.uk")
    their_log = EventLogRepository.for_tenant(session, STONEHAVEN)
    ids = await their_log.append_log(
        [LogRow(STONEHAVEN, "e1", "teetime", "teetime.booking.created", T, theirs, "APPLIED", {}, "{}")]
    )
    mine = EventLogRepository.for_tenant(session, FAIRWAY)

    assert await mine.events_of([theirs]) == []
    assert await mine.sync_log(event_id="e1", event_type=None, profile_id=None, before=None, limit=10) == []
    await mine.retag(ids, str(uuid.uuid4()))
    with pytest.raises(ValueError, match="another tenant"):
        await mine.append_log([LogRow(STONEHAVEN, "e2", "teetime", "teetime.booking.created", T, theirs, "APPLIED",
                                      {}, "{}")])

    assert [(e.event_id, e.profile_id) for e in await their_log.events_of([theirs])] == [("e1", theirs)]
