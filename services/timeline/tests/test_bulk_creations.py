"""A batch of profile.created (and profile.identity_linked) events is applied in runs that share their statements (`fairway_events.runs`), with
the effect of applying them one by one: an activity waiting on keys of several new profiles ends on the one whose
key ranks highest, ties going to the first announced, and a key announced twice ends on its last owner."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from fairway_chassis import ManualClock
from fairway_chassis.db import make_engine, make_sessionmaker, migrate
from fairway_events import Delivery, registry
from fairway_events.contracts.identity import ProfileCreated, ProfileIdentityLinked
from fairway_events.envelope import parse_json
from fairway_testkit import upstream_event
from fairway_timeline.app import MIGRATIONS
from fairway_timeline.db import activities, profile_keys
from fairway_timeline.ingest.handler import TimelineIngest
from fairway_timeline.settings import Settings

from .conftest import snapshot

TENANT = "fairway-golf"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def booking(n: int, **who: str) -> Delivery:
    wire = upstream_event("teetime.booking.created", TENANT, who, {"bookingId": f"bk-{n}"}, event_id=f"bk-{n}",
                          at=NOW)
    return Delivery(envelope=registry.from_wire(wire, parse_json(wire), {}), headers={})


def created(pid: str, **keys: list[str]) -> Delivery:
    env = registry.envelope(ProfileCreated(profile=snapshot(pid, **keys)), tenant_id=TENANT, aggregate_id=pid,
                            source="identity")
    return Delivery(envelope=env, headers={})


def linked(pid: str, key_type: str, value: str) -> Delivery:
    env = registry.envelope(ProfileIdentityLinked(profileId=pid, keyType=key_type, value=value, confidence=100),
                            tenant_id=TENANT, aggregate_id=pid, source="identity")
    return Delivery(envelope=env, headers={})


async def test_creations_in_one_batch_resolve_as_if_applied_one_by_one(database_url: str, settings_for) -> None:  # noqa: ANN001
    await migrate(MIGRATIONS, database_url)
    engine = make_engine(database_url, 2)
    sessions = make_sessionmaker(engine)
    handle = TimelineIngest(settings_for(Settings), ManualClock(NOW))
    try:
        async with sessions() as session, session.begin():
            await handle(session, [
                booking(1, email="ana@fairwaygolf.co.za", teetimePlayerId="TT0001"),
                booking(2, email="ben@fairwaygolf.co.za", teetimePlayerId="TT0002"),
                booking(3, email="cas@fairwaygolf.co.za"),
                booking(4, email="dan@fairwaygolf.co.za"),
            ])
        async with sessions() as session, session.begin():
            await handle(session, [
                # the player id (lower priority) is announced first, the email after: the email wins
                created("p-tt1", teetimePlayerId=["TT0001"]),
                created("p-ana", email=["ana@fairwaygolf.co.za"]),
                # the email first: the player id announced after cannot take the booking away
                created("p-ben", email=["ben@fairwaygolf.co.za"]),
                created("p-tt2", teetimePlayerId=["TT0002"]),
                # one key announced for two profiles (a second run): the first keeps what it resolved,
                # the key itself ends on the last
                created("p-cas", email=["cas@fairwaygolf.co.za"]),
                created("p-cas2", email=["CAS@fairwaygolf.co.za"]),
                # a key linked to a profile created in the same batch
                created("p-dan", teetimePlayerId=["TT0004"]),
                linked("p-dan", "email", "dan@fairwaygolf.co.za"),
            ])
        async with sessions() as session:
            owners = dict((await session.execute(
                select(activities.c.source_event_id, activities.c.profile_id))).all())
            keys = dict((await session.execute(
                select(profile_keys.c.key_value, profile_keys.c.profile_id))).all())
        assert owners == {"bk-1": "p-ana", "bk-2": "p-ben", "bk-3": "p-cas", "bk-4": "p-dan"}
        assert keys["cas@fairwaygolf.co.za"] == "p-cas2" and keys["TT0001"] == "p-tt1"
    finally:
        await engine.dispose()
