"""StateReader: snapshots apply in order with live events; replays and stale snapshots are no-ops."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fairway_events import Delivery, new_event_id, registry
from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileSnapshot, ProfileUpdated
from fairway_events.contracts.state import MembershipState, ProfileState
from fairway_events.state_readers import StateReader

T = "club-a"


def _ids(n: int) -> list[str]:
    """n event ids in the order they were made (UUIDv7s of one millisecond need not come out sorted)."""
    return sorted(new_event_id() for _ in range(n))


def _profile(event_id: str, pid: str, first_name: str) -> Delivery:
    snap = ProfileState(
        profile=ProfileSnapshot(profileId=pid, status="ACTIVE", identities=Identities(email=[f"{pid}@club.example"]),
                                attributes=Attributes(firstName=first_name), consent=Consent(emailOptIn=True)),
        revision=1, updatedAt=datetime(2026, 12, 1, tzinfo=UTC),
    )
    return Delivery(registry.envelope(snap, tenant_id=T, aggregate_id=pid, source="identity", event_id=event_id), {})


def _member(event_id: str, segment: str, pid: str) -> Delivery:
    m = MembershipState(segmentId=segment, segmentName="Gold", profileId=pid, since=datetime(2026, 12, 1, tzinfo=UTC))
    return Delivery(registry.envelope(m, tenant_id=T, aggregate_id=f"{segment}:{pid}", source="segmentation",
                                      event_id=event_id), {})


def _tombstone(event_id: str, topic: str, key: str) -> Delivery:
    return Delivery(registry.tombstone(topic, key, {"event_id": event_id, "tenant_id": T}), {})


def _live_update(event_id: str, pid: str) -> Delivery:
    upd = ProfileUpdated(profileId=pid, changes={"firstName": "Live"})
    return Delivery(registry.envelope(upd, tenant_id=T, aggregate_id=pid, source="identity", event_id=event_id), {})


class Recorder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        self.seen += [d.envelope.event_id for d in deliveries]


@pytest.fixture
def sm(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine)


async def _run(sm: async_sessionmaker[AsyncSession], reader: StateReader, *deliveries: Delivery) -> None:
    async with sm() as s, s.begin():
        await reader(s, list(deliveries))


async def test_snapshots_apply_in_order_and_replays_are_no_ops(sm: async_sessionmaker[AsyncSession]) -> None:
    rec = Recorder()
    reader = StateReader(rec)
    a, b = _ids(2)
    await _run(sm, reader, _profile(a, "p-1", "Thandi"), _profile(b, "p-1", "Thandiwe"))
    assert rec.seen == [a, b]
    rec.seen.clear()
    await _run(sm, reader, _profile(a, "p-1", "Thandi"), _profile(b, "p-1", "Thandiwe"))  # the topic read again
    assert rec.seen == []
    async with sm() as s:
        assert (await s.execute(text("SELECT topic, key, version FROM state_versions"))).all() == [
            ("crm.identity.state", "p-1", b)]


async def test_an_older_snapshot_after_a_newer_one_is_skipped(sm: async_sessionmaker[AsyncSession]) -> None:
    rec = Recorder()
    reader = StateReader(rec)
    old, new = _ids(2)
    await _run(sm, reader, _profile(new, "p-1", "New"))
    await _run(sm, reader, _profile(old, "p-1", "Old"), _profile(old, "p-2", "Other"))
    assert rec.seen == [new, old]  # p-2's snapshot is new to the reader; p-1's old one is not


async def test_live_events_raise_the_version_a_snapshot_must_beat(sm: async_sessionmaker[AsyncSession]) -> None:
    rec = Recorder()
    reader = StateReader(rec, live={"crm.identity": "crm.identity.state"})
    before, live, after = _ids(3)
    await _run(sm, reader, _live_update(live, "p-1"))
    assert rec.seen == [live]  # live events always go through
    await _run(sm, reader, _profile(before, "p-1", "Built before the update"))
    assert rec.seen == [live]
    await _run(sm, reader, _profile(after, "p-1", "Built after it"))
    assert rec.seen == [live, after]


async def test_a_tombstone_removes_until_a_newer_snapshot(sm: async_sessionmaker[AsyncSession]) -> None:
    rec = Recorder()
    reader = StateReader(rec)
    joined, early, left, rejoined = _ids(4)
    await _run(sm, reader, _member(joined, "s-1", "p-1"), _tombstone(left, "crm.segmentation.state", "s-1:p-1"))
    await _run(sm, reader, _member(early, "s-1", "p-1"))  # made before the tombstone: it stays gone
    # the same key on another state topic is another entity
    await _run(sm, reader, _profile(early, "s-1:p-1", "Unrelated"))
    await _run(sm, reader, _member(rejoined, "s-1", "p-1"))  # a member again
    assert rec.seen == [joined, left, early, rejoined]
    async with sm() as s:
        versions = dict((await s.execute(text("SELECT topic, version FROM state_versions"))).all())
    assert versions == {"crm.segmentation.state": rejoined, "crm.identity.state": early}


async def test_other_events_pass_untouched(sm: async_sessionmaker[AsyncSession]) -> None:
    rec = Recorder()
    reader = StateReader(rec)  # no live topics: a live event neither waits on nor raises a version
    (e,) = _ids(1)
    await _run(sm, reader, _live_update(e, "p-1"))
    assert rec.seen == [e]
    async with sm() as s:
        assert (await s.execute(text("SELECT count(*) FROM state_versions"))).scalar_one() == 0


def test_unknown_topics_are_refused() -> None:
    with pytest.raises(KeyError):
        StateReader(Recorder(), live={"crm.identity": "crm.nowhere.state"})
