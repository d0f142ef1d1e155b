"""The set-based path: a refresh diff over the read model, and the events SQL writes for it, which must be the
events the Python path would write."""

from datetime import timedelta

from seg_helpers import NOW
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fairway_events import registry
from fairway_events.contracts.messaging_out import Recipient
from fairway_events.envelope import decode_raw
from fairway_schemas.criteria import Group
from fairway_segmentation.db import outbox_table, profiles
from fairway_segmentation.readmodel.repository import ProfileRepository
from fairway_segmentation.segments import engine as seg_engine
from fairway_segmentation.segments.engine import SegmentRef, membership_event, sync_deltas
from fairway_segmentation.segments.member_repository import SYNC_CHUNK, MembershipRepository
from fairway_segmentation.segments.repository import SegmentRepository


async def _segment(session, tenant: str, sid: str, criteria: dict, sync: bool = True) -> None:
    await SegmentRepository.for_tenant(session, tenant).create(
        {
            "tenant_id": tenant,
            "segment_id": sid,
            "name": f"Segment {sid}",
            "type": "DYNAMIC",
            "criteria": Group.model_validate(criteria).dump(),
            "sync_to_messaging": sync,
            "created_at": NOW,
            "updated_at": NOW,
        }
    )


async def _outbox(session) -> list:
    rows = (
        await session.execute(
            select(
                outbox_table.c.body, outbox_table.c.key, outbox_table.c.topic, outbox_table.c.headers
            ).order_by(outbox_table.c.id)
        )
    ).all()
    return [(registry.validate(decode_raw(r.body.encode())), r.key, r.topic, r.headers) for r in rows]


async def test_refresh_diff_and_sql_events_match_the_python_ones(engine: AsyncEngine) -> None:
    sm = async_sessionmaker(engine, expire_on_commit=False)
    t = "club-a"
    n = SYNC_CHUNK + 5
    async with sm() as s, s.begin():
        repo = ProfileRepository.for_tenant(s, t)
        await s.execute(
            profiles.insert(),
            [
                {
                    "tenant_id": t,
                    "profile_id": f"p{i:05d}",
                    "status": "ACTIVE" if i % 10 else "MERGED",
                    "membership_tier": "Gold" if i % 2 else "Silver",
                    "email": f"p{i}@x.com",
                    "messaging_contact_id": f"mc{i}",
                }
                for i in range(n)
            ],
        )
        await ProfileRepository.for_tenant(s, "club-b").upsert("p00001", {"status": "ACTIVE", "membership_tier": "Gold"})
        await _segment(
            s, t, "s1", {"rules": [{"field": "membershipTier", "operator": "eq", "value": "gold"}]}
        )
        await _segment(s, "club-b", "s1", {"rules": []}, sync=False)
    async with sm() as s, s.begin():
        diff = await seg_engine.refresh(s, t, "s1", now=NOW, reason="manual")
    odd_active = {f"p{i:05d}" for i in range(n) if i % 2 and i % 10}  # MERGED rows are never members
    assert diff is not None and (diff.size, diff.entered, diff.exited) == (
        len(odd_active),
        len(odd_active),
        0,
    )
    async with sm() as s:
        out = await _outbox(s)
        assert {tuple(m) for m in await MembershipRepository.for_tenant(s, t).of_profiles(odd_active)} == {
            ("s1", p) for p in odd_active
        }
    entered = [e for e, *_ in out if e.event_type == "segment.member_entered"]
    deltas = [e for e, *_ in out if e.event_type == "segment.sync.delta"]
    assert {e.payload.profileId for e in entered} == odd_active and len(deltas) == 1
    seg = SegmentRef("s1", "Segment s1", "DYNAMIC", True)
    sample, key, topic, headers = next(x for x in out if x[0].event_type == "segment.member_entered")
    py = membership_event(t, seg, sample.payload.profileId, entered=True, at=NOW, reason="manual")
    assert sample.payload == py.payload and (
        sample.tenant_id,
        sample.aggregate_id,
        sample.source,
        sample.version,
    ) == (py.tenant_id, py.aggregate_id, py.source, py.version)
    assert (key, topic) == ("s1", "crm.segmentation") and sample.occurred_at == NOW
    assert headers["event_type"] == "segment.member_entered" and headers["tenant_id"] == t
    assert deltas[0].payload.added[0] == Recipient(
        profileId=sorted(odd_active)[0],
        email=f"p{int(sorted(odd_active)[0][1:])}@x.com",
        messagingContactId=f"mc{int(sorted(odd_active)[0][1:])}",
    )

    # the world changes: a refresh moves exactly the difference, and a full resync chunks the whole list
    async with sm() as s, s.begin():
        repo = ProfileRepository.for_tenant(s, t)
        await repo.upsert("p00001", {"membership_tier": "Silver"})
        await repo.upsert("p00002", {"membership_tier": "GOLD"})
    async with sm() as s, s.begin():
        diff = await seg_engine.refresh(s, t, "s1", now=NOW + timedelta(hours=1), reason="manual")
        assert diff is not None and (diff.entered, diff.exited, diff.size) == (1, 1, len(odd_active))
        before = len(await _outbox(s))
        events = await seg_engine.full_resync(s, t, seg, now=NOW)
    async with sm() as s:
        out = await _outbox(s)
    moved = [
        (e.event_type, e.payload.profileId)
        for e, *_ in out[before - 3 : before]
        if e.event_type != "segment.sync.delta"
    ]
    assert ("segment.member_entered", "p00002") in moved and ("segment.member_exited", "p00001") in moved
    full = [e.payload for e, *_ in out[before:]]
    assert events == len(full) == -(-len(odd_active) // SYNC_CHUNK)
    assert [d.fullResync for d in full] == [True] + [False] * (len(full) - 1)
    assert sum(len(d.added) for d in full) == len(odd_active)
    # Python chunks the same way
    py_full = sync_deltas(
        t, seg, [Recipient(profileId=str(i)) for i in range(len(odd_active))], [], at=NOW, full_resync=True
    )
    assert [len(d.payload.added) for d in py_full] == [len(d.added) for d in full]
