"""Pending activities (their keys not announced by identity yet) cost an announcement O(its own keys'
activities), not O(every pending activity): asserted on the rows PostgreSQL touched, on a fresh tenant whose
tables were never analysed (as on the first day of a club's history replay)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from fairway_chassis.db import make_engine, make_sessionmaker, migrate
from fairway_events import registry
from fairway_events.contracts.identity import ProfileCreated
from fairway_events.envelope import parse_json
from fairway_testkit import upstream_event
from fairway_timeline.app import MIGRATIONS
from fairway_timeline.db import activities, activity_key_waits
from fairway_timeline.ingest.identity import IdentitySync
from fairway_timeline.ingest.touched import Touched
from fairway_timeline.ingest.upstream import ingest
from fairway_timeline.settings import Settings

from .conftest import snapshot

TENANT = "northfield-golf"
PEOPLE, EACH = 2_000, 10  # 20,000 pending activities
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def email(i: int) -> str:
    return f"member{i:05}@northfieldgolf.co.za"


def bookings(i: int) -> list:
    out = []
    for n in range(EACH):
        wire = upstream_event("teetime.booking.created", TENANT, {"email": email(i), "teetimePlayerId": f"TT{i:05}"},
                              {"bookingId": f"bk-{i}-{n}", "teeTime": (NOW - timedelta(days=n)).isoformat()},
                              event_id=f"tt-{i:05}-{n}", at=NOW - timedelta(days=n))
        out.append(registry.from_wire(wire, parse_json(wire), {}))
    return out


async def test_announcing_keys_touches_only_their_own_pending_activities(database_url: str, settings_for) -> None:  # noqa: ANN001
    settings = settings_for(Settings)
    await migrate(MIGRATIONS, database_url)
    engine = make_engine(database_url, 2)
    sessions = make_sessionmaker(engine)
    try:
        async with engine.begin() as conn:
            for table in ("activities", "activity_key_waits"):  # no statistics, ever, during this test
                await conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        for start in range(0, PEOPLE, 200):
            async with sessions() as session, session.begin():
                envs = [e for i in range(start, start + 200) for e in bookings(i)]
                await ingest(session, envs, settings=settings, now=NOW, touched=Touched())
        async with sessions() as session:
            pending = select(func.count()).select_from(activities).where(activities.c.profile_id.is_(None))
            assert (await session.execute(pending)).scalar() == PEOPLE * EACH

        async with sessions() as session, session.begin():
            sync = IdentitySync(session, settings, NOW, Touched())
            before = await _touched(session)  # the counters may still hold earlier transactions' figures
            for i in range(PEOPLE):  # identity announces every person, one profile each
                pid = f"0190c0de-0000-7000-8000-{i:012}"
                await sync.apply(registry.envelope(ProfileCreated(profile=snapshot(pid, email=[email(i)])),
                                                   tenant_id=TENANT, aggregate_id=pid, source="identity"))
            after = await _touched(session)

        acts, waits = ({k: after[t][k] - before[t][k] for k in after[t]} for t in ("activities", "activity_key_waits"))
        assert acts["seq_scan"] == 0 and waits["seq_scan"] == 0  # never a scan of every pending activity
        assert acts["n_tup_upd"] == PEOPLE * EACH
        # each activity read a bounded number of times to match and move it, each wait row likewise
        assert acts["idx_tup_fetch"] <= 3 * PEOPLE * EACH and waits["idx_tup_fetch"] <= 3 * 2 * PEOPLE * EACH
        async with sessions() as session:
            assert (await session.execute(pending)).scalar() == 0
            per_profile = await session.execute(
                select(activities.c.profile_id, func.count()).group_by(activities.c.profile_id))
            counts = dict(per_profile.all())
        assert len(counts) == PEOPLE and set(counts.values()) == {EACH}
        async with sessions() as session:  # the email waits went; only the weaker-ranked may remain
            left = (await session.execute(select(func.count()).select_from(activity_key_waits))).scalar()
        assert left <= PEOPLE * EACH
    finally:
        await engine.dispose()


async def _touched(session) -> dict[str, dict[str, int]]:  # noqa: ANN001
    rows = await session.execute(text(
        "SELECT relname, seq_scan, seq_tup_read, idx_tup_fetch, n_tup_upd, n_tup_del "
        "FROM pg_stat_xact_user_tables WHERE relname IN ('activities', 'activity_key_waits')"))
    return {r.relname: {k: int(v or 0) for k, v in r._mapping.items() if k != "relname"} for r in rows}
