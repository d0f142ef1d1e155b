"""The key map and the profiles' points bootstrap from crm.identity.state alone (ml-scoring.state): events of a
snapshot's keys land on its profile, a merged snapshot moves the loser's events to the winner, and an erasure
tombstone removes the person's events and keys."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from fairway_events import new_event_id, registry
from fairway_events.contracts.identity import Attributes, Consent, Identities, ProfileSnapshot
from fairway_events.contracts.state import ProfileState
from fairway_ml_scoring.app import create_app
from fairway_ml_scoring.db import ml_events, ml_identity_keys
from fairway_testkit import run_service, upstream_event, wait_for


async def _state(producer, topics, pid: str, merged_into: str | None = None, **keys: list[str]) -> None:  # noqa: ANN001
    snap = ProfileSnapshot(profileId=pid, status="MERGED" if merged_into else "ACTIVE", identities=Identities(**keys),
                           attributes=Attributes(membershipTier="Gold"), consent=Consent(emailOptIn=True))
    env = registry.envelope(ProfileState(profile=snap, mergedInto=merged_into, revision=1,
                                         updatedAt=datetime.now(UTC)),
                            tenant_id="club-a", aggregate_id=pid, source="identity")
    await producer.send_and_wait(topics("crm.identity.state"), env.to_wire(), key=pid.encode())


async def _tombstone(producer, topics, pid: str) -> None:  # noqa: ANN001
    headers = {"event_id": new_event_id(), "event_type": "state.tombstone", "version": "1", "tenant_id": "club-a"}
    await producer.send_and_wait(topics("crm.identity.state"), None, key=pid.encode(),
                                 headers=[(k, v.encode()) for k, v in headers.items()])


async def _count(svc, table, column, value: str) -> int:  # noqa: ANN001
    async with svc.runtime.sessionmaker() as s:
        q = select(func.count()).select_from(table).where(table.c.tenant_id == "club-a", column == value)
        return int((await s.execute(q)).scalar_one())


async def test_snapshots_alone_make_the_key_map(ml_settings, producer, topics) -> None:
    now = datetime.now(UTC)
    async with run_service(create_app(ml_settings())) as svc:
        await _state(producer, topics, "prof-1", teetimePlayerId=["P1"])
        await _state(producer, topics, "prof-2", email=["bea@club.com"])
        await _state(producer, topics, "prof-3", teetimePlayerId=["P3"])
        for player, booking in (("P1", "b1"), ("P3", "b3")):
            await producer.send_and_wait(
                topics("teetime.events"),
                upstream_event("teetime.booking.created", "club-a", {"teetimePlayerId": player},
                               {"bookingId": booking, "amount": "450"}, at=now - timedelta(days=1)),
                key=player.encode())
        await producer.send_and_wait(
            topics("messaging.events"),
            upstream_event("messaging.email.opened", "club-a", {"email": "bea@club.com"}, {"messageId": "m1"},
                           at=now - timedelta(days=1)),
            key=b"bea@club.com")
        # each profile: its snapshot's attributes as a point, and its event resolved through the snapshot's keys
        for pid in ("prof-1", "prof-2", "prof-3"):
            await wait_for(lambda pid=pid: _is(_count(svc, ml_events, ml_events.c.subject_id, pid), 2),
                           what=f"{pid}'s events")

        await _state(producer, topics, "prof-3", merged_into="prof-1")
        await wait_for(lambda: _is(_count(svc, ml_events, ml_events.c.subject_id, "prof-1"), 4), what="merged")
        assert await _count(svc, ml_events, ml_events.c.subject_id, "prof-3") == 0

        await _tombstone(producer, topics, "prof-2")
        await wait_for(lambda: _is(_count(svc, ml_events, ml_events.c.subject_id, "prof-2"), 0), what="erased")
        assert await _count(svc, ml_identity_keys, ml_identity_keys.c.profile_id, "prof-2") == 0


async def _is(value, expected: int) -> bool:  # noqa: ANN001
    return await value == expected
