"""Parked events (their keys not announced by identity yet) cost an announcement O(its own keys' events), not
O(every parked event): asserted on the rows PostgreSQL touched, on a fresh tenant whose tables were never
analysed (the planner knows nothing, as on the first day of a club's history replay)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from fairway_chassis.db import make_engine, migrate
from fairway_ml_scoring.app import MIGRATIONS
from fairway_ml_scoring.db import ml_events, ml_parked_keys
from fairway_ml_scoring.features.events import LogEvent
from fairway_ml_scoring.features.keys import key

from ..conftest import at, insert_events

TENANT = "northfield-golf"
PEOPLE, EACH = 2_000, 10  # 20,000 parked events, two keys each


def email(i: int) -> str:
    return key("email", f"member{i:05}@northfieldgolf.co.za")


def purchases() -> list[LogEvent]:
    return [
        LogEvent(tenant_id=TENANT, event_id=f"pos-{i:05}-{n}", kind="purchase", occurred_at=at(2025, 1 + n, 5),
                 keys=[email(i), key("membershipNumber", f"NF{i:05}")], amount=120.0)
        for i in range(PEOPLE) for n in range(EACH)
    ]


@pytest.mark.parametrize("together", [False, True], ids=["one-by-one", "one-run"])
async def test_announcing_keys_touches_only_their_own_parked_events(database_url: str, together: bool) -> None:
    await migrate(MIGRATIONS, database_url)
    engine = make_engine(database_url, 2)
    try:
        async with engine.begin() as conn:
            for table in ("ml_events", "ml_parked_keys"):  # no statistics, ever, during this test
                await conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        async with engine.begin() as conn:
            await insert_events(conn, purchases(), announced=False)  # type: ignore[arg-type]
        async with engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(ml_parked_keys))).scalar() == 2 * EACH * PEOPLE
            analysed = await conn.execute(text(
                "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('ml_events', 'ml_parked_keys') "
                "AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)"))
            assert analysed.scalar() == 0

        from fairway_ml_scoring.features.repository import FeatureLogRepository

        async with engine.begin() as conn:
            repo = FeatureLogRepository(conn, TENANT)  # type: ignore[arg-type]
            before = await _touched(conn)  # the counters may still hold earlier transactions' figures
            left: set[str] = set()
            people = [(f"0190c0de-0000-7000-8000-{i:012}", [email(i)]) for i in range(PEOPLE)]
            if together:  # a batch of profile.created, as a history replay brings them
                left = await repo.link_many(people)
            else:  # identity announces every person, one profile each
                for profile_id, keys in people:
                    left |= await repo.link(profile_id, keys)
            after = await _touched(conn)

        events, parked = (
            {k: after[t][k] - before[t][k] for k in after[t]} for t in ("ml_events", "ml_parked_keys"))
        assert events["seq_scan"] == 0 and parked["seq_scan"] == 0  # never a scan of every parked event
        assert events["n_tup_upd"] == EACH * PEOPLE and parked["n_tup_del"] == 2 * EACH * PEOPLE
        # each event read once to move it, each parked row once to find it and once more to drop its siblings
        assert events["idx_tup_fetch"] <= EACH * PEOPLE and parked["idx_tup_fetch"] <= 2 * 2 * EACH * PEOPLE
        assert len(left) == PEOPLE  # every provisional subject was left behind
        async with engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(ml_parked_keys))).scalar() == 0
            by_subject = await conn.execute(
                select(ml_events.c.subject_id, func.count()).where(ml_events.c.resolved.is_(True))
                .group_by(ml_events.c.subject_id))
            counts = dict(by_subject.all())
        assert len(counts) == PEOPLE and set(counts.values()) == {EACH}
    finally:
        await engine.dispose()


async def _touched(conn) -> dict[str, dict[str, int]]:  # noqa: ANN001
    rows = await conn.execute(text(
        "SELECT relname, seq_scan, seq_tup_read, idx_tup_fetch, n_tup_upd, n_tup_del "
        "FROM pg_stat_xact_user_tables WHERE relname IN ('ml_events', 'ml_parked_keys')"))
    return {r.relname: {k: int(v) for k, v in r._mapping.items() if k != "relname"} for r in rows}
