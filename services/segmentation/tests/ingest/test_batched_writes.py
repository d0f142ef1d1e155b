"""A batch's row writes are held and sent together (one statement per set of columns), with the effect of
applying its events one by one: later values win, counters and scores only from a later (or equal) moment, and
whatever else the batch does (a merge) sees the writes made before it."""

from datetime import timedelta

from seg_helpers import NOW, Events, tenant_id
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fairway_chassis import ManualClock
from fairway_events import Delivery
from fairway_segmentation.ingest.handlers import make_handler


async def test_one_batch_leaves_the_rows_one_by_one_would(engine: AsyncEngine) -> None:
    club = tenant_id()
    handle = make_handler(ManualClock(NOW))
    ev = Events
    batch = [
        ev.created(club, "ana", email="ana@stonehavengolf.co.za", membershipTier="Silver"),
        ev.counters(club, "ana", as_of=NOW, bookingCount30d=2),
        ev.updated(club, "ana", membershipTier="Gold"),
        ev.counters(club, "ana", as_of=NOW - timedelta(hours=1), bookingCount30d=9),  # older: ignored
        ev.scores(club, "ana", engagement=40, at=NOW),
        ev.scores(club, "ana", engagement=70, at=NOW),  # as recent: the later one wins
        ev.created(club, "ben", email="ben@stonehavengolf.co.za", membershipTier="Bronze"),
        ev.counters(club, "ben", as_of=NOW, bookingCount30d=5),
        # ben merges into ana: the merge sees ben's counters written before it and folds them in
        ev.merged(club, "ana", "ben", email="ana@stonehavengolf.co.za", membershipTier="Gold"),
        ev.updated(club, "ana", handicap=4.5),
    ]
    sessions = async_sessionmaker(engine)
    async with sessions() as session, session.begin():
        # a row from an earlier batch, with counters newer than this batch's
        await handle(session, [Delivery(envelope=ev.created(club, "cas", membershipTier="Gold"), headers={}),
                               Delivery(envelope=ev.counters(club, "cas", as_of=NOW + timedelta(days=1),
                                                             bookingCount30d=1), headers={})])
    async with sessions() as session, session.begin():
        await handle(session, [Delivery(envelope=e, headers={}) for e in
                               [*batch, ev.counters(club, "cas", as_of=NOW, bookingCount30d=7)]])
    async with engine.connect() as conn:
        rows = {r.profile_id: r for r in await conn.execute(text(
            "SELECT profile_id, membership_tier, handicap, booking_count_30d, engagement_score FROM profiles "
            "WHERE tenant_id = :t"), {"t": club})}
    assert set(rows) == {"ana", "cas"}
    assert (rows["ana"].membership_tier, rows["ana"].handicap) == ("Gold", 4.5)
    assert rows["ana"].booking_count_30d == 2 + 5 and rows["ana"].engagement_score == 70
    assert rows["cas"].booking_count_30d == 1
