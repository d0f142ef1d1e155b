"""SQL for counters: one aggregate over the activities of many profiles at once, and the published state."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import RepositoryBase
from fairway_timeline.activities.catalogue import COUNTED_TYPES
from fairway_timeline.activities.catalogue import ActivityType as T
from fairway_timeline.db import profile_counters

ProfileRef = tuple[str, str]  # (tenant id, profile id)
D30, D90 = timedelta(days=30), timedelta(days=90)
# Types whose 30-day / 90-day counts are published, besides the engagement activities themselves.
WINDOWED_30 = [T.BOOKING_CREATED, T.ROUND_PLAYED, T.EMAIL_SENT, T.EMAIL_OPENED, T.EMAIL_CLICKED]
WINDOWED_90 = [T.BOOKING_CREATED, T.ROUND_PLAYED]
# Every type a counter looks at; an activity of any other type cannot change a profile's counters.
AFFECTS_COUNTERS = frozenset(COUNTED_TYPES | {*WINDOWED_30, *WINDOWED_90})


@dataclass(frozen=True)
class Computed:
    values: dict[str, Any]  # the counters, JSON-ready, without profileId/asOf
    next_change_at: datetime | None  # when the oldest in-window activity leaves a window


# Per profile, a lateral aggregate: an index scan of that profile's activities (index-only when the
# visibility map allows: type and counts are INCLUDEd in the timeline index), never a scan of the table.
_AGGREGATE = text("""
    SELECT w.tenant_id, w.profile_id, agg.*,
           (SELECT a.type FROM activities a
             WHERE a.tenant_id = w.tenant_id AND a.profile_id = w.profile_id AND a.counts
             ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1) AS last_activity_type
      FROM unnest(CAST(:t AS text[]), CAST(:p AS text[])) AS w(tenant_id, profile_id)
      CROSS JOIN LATERAL (
        SELECT count(*) AS n,
               count(*) FILTER (WHERE a.counts AND a.occurred_at > :c30) AS activity_30,
               count(*) FILTER (WHERE a.counts AND a.occurred_at > :c90) AS activity_90,
               count(*) FILTER (WHERE a.type = 'BOOKING_CREATED' AND a.occurred_at > :c30) AS booking_30,
               count(*) FILTER (WHERE a.type = 'BOOKING_CREATED' AND a.occurred_at > :c90) AS booking_90,
               count(*) FILTER (WHERE a.type = 'ROUND_PLAYED' AND a.occurred_at > :c30) AS rounds_30,
               count(*) FILTER (WHERE a.type = 'ROUND_PLAYED' AND a.occurred_at > :c90) AS rounds_90,
               count(*) FILTER (WHERE a.type = 'EMAIL_SENT' AND a.occurred_at > :c30) AS sends_30,
               count(*) FILTER (WHERE a.type = 'EMAIL_OPENED' AND a.occurred_at > :c30) AS opens_30,
               count(*) FILTER (WHERE a.type = 'EMAIL_CLICKED' AND a.occurred_at > :c30) AS clicks_30,
               max(a.occurred_at) FILTER (WHERE a.counts) AS last_activity_at,
               max(a.occurred_at) FILTER (WHERE a.type = 'BOOKING_CREATED') AS last_booking_at,
               max(a.occurred_at) FILTER (WHERE a.type = 'ROUND_PLAYED') AS last_round_at,
               max(a.occurred_at) FILTER (WHERE a.type = 'EMAIL_OPENED') AS last_open_at,
               max(a.occurred_at) FILTER (WHERE a.type = 'EMAIL_CLICKED') AS last_click_at,
               min(a.occurred_at) FILTER (WHERE a.occurred_at > :c30
                                            AND (a.counts OR a.type = ANY(CAST(:w30 AS text[])))) AS oldest_30,
               min(a.occurred_at) FILTER (WHERE a.occurred_at > :c90
                                            AND (a.counts OR a.type = ANY(CAST(:w90 AS text[])))) AS oldest_90
          FROM activities a
         WHERE a.tenant_id = w.tenant_id AND a.profile_id = w.profile_id
      ) AS agg
     WHERE agg.n > 0
""")


_DATETIME = TypeAdapter(datetime)


def _iso(dt: datetime | None) -> str | None:
    """The same text the published event carries, so stored and newly computed counters compare equal."""
    return _DATETIME.dump_python(dt, mode="json") if dt is not None else None


EMPTY: dict[str, Any] = {
    "activityCount30d": 0,
    "activityCount90d": 0,
    "bookingCount30d": 0,
    "bookingCount90d": 0,
    "roundsPlayed30d": 0,
    "roundsPlayed90d": 0,
    "emailSends30d": 0,
    "emailOpens30d": 0,
    "emailClicks30d": 0,
    "lastActivityAt": None,
    "lastActivityType": None,
    "lastBookingAt": None,
    "lastRoundAt": None,
    "lastEmailOpenAt": None,
    "lastEmailClickAt": None,
}


class CountersBatchRepository:
    """Counters of a consumer batch or a sweep: spans tenants by design, every row is addressed by its
    (tenant, profile) ref."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def compute(self, refs: Sequence[ProfileRef], now: datetime) -> dict[ProfileRef, Computed]:
        """Counters of every profile in `refs` as of `now` (profiles without activities get EMPTY)."""
        if not refs:
            return {}
        rows = (
            await self.session.execute(
                _AGGREGATE,
                {
                    "t": [t for t, _ in refs],
                    "p": [p for _, p in refs],
                    "c30": now - D30,
                    "c90": now - D90,
                    "w30": [str(x) for x in WINDOWED_30],
                    "w90": [str(x) for x in WINDOWED_90],
                },
            )
        ).all()
        out = {ref: Computed(dict(EMPTY), None) for ref in refs}
        for r in rows:
            changes = [x for x in (r.oldest_30 and r.oldest_30 + D30, r.oldest_90 and r.oldest_90 + D90) if x]
            out[(r.tenant_id, r.profile_id)] = Computed(
                {
                    "activityCount30d": r.activity_30,
                    "activityCount90d": r.activity_90,
                    "bookingCount30d": r.booking_30,
                    "bookingCount90d": r.booking_90,
                    "roundsPlayed30d": r.rounds_30,
                    "roundsPlayed90d": r.rounds_90,
                    "emailSends30d": r.sends_30,
                    "emailOpens30d": r.opens_30,
                    "emailClicks30d": r.clicks_30,
                    "lastActivityAt": _iso(r.last_activity_at),
                    "lastActivityType": r.last_activity_type,
                    "lastBookingAt": _iso(r.last_booking_at),
                    "lastRoundAt": _iso(r.last_round_at),
                    "lastEmailOpenAt": _iso(r.last_open_at),
                    "lastEmailClickAt": _iso(r.last_click_at),
                },
                min(changes) if changes else None,
            )
        return out

    async def stored(self, refs: Sequence[ProfileRef]) -> dict[ProfileRef, dict[str, Any]]:
        if not refs:
            return {}
        rows = (
            await self.session.execute(
                text("""
                SELECT c.tenant_id, c.profile_id, c.counters
                  FROM unnest(CAST(:t AS text[]), CAST(:p AS text[])) AS w(tenant_id, profile_id)
                  JOIN profile_counters c USING (tenant_id, profile_id)
                """),
                {"t": [t for t, _ in refs], "p": [p for _, p in refs]},
            )
        ).all()
        return {(r.tenant_id, r.profile_id): r.counters for r in rows}

    async def save(self, rows: Sequence[tuple[ProfileRef, Computed]], now: datetime) -> None:
        """Store newly published counters (as of `now`) and when their windows next change."""
        if not rows:
            return
        await self.session.execute(
            text("""
            INSERT INTO profile_counters (tenant_id, profile_id, counters, as_of, next_change_at)
            SELECT t, p, CAST(c AS jsonb), :now, n
              FROM unnest(CAST(:t AS text[]), CAST(:p AS text[]), CAST(:c AS text[]), CAST(:n AS timestamptz[]))
                AS u(t, p, c, n)
            ON CONFLICT (tenant_id, profile_id) DO UPDATE
               SET counters = excluded.counters, as_of = excluded.as_of, next_change_at = excluded.next_change_at
            """),
            {
                "now": now,
                "t": [ref[0] for ref, _ in rows],
                "p": [ref[1] for ref, _ in rows],
                "c": [json.dumps(comp.values, separators=(",", ":")) for _, comp in rows],
                "n": [comp.next_change_at for _, comp in rows],
            },
        )

    async def reschedule(self, rows: Sequence[tuple[ProfileRef, datetime | None]]) -> None:
        """Unchanged counters: only the time of the next window change moves."""
        if not rows:
            return
        await self.session.execute(
            text("""
            UPDATE profile_counters c SET next_change_at = u.next_change_at
              FROM unnest(CAST(:t AS text[]), CAST(:p AS text[]), CAST(:n AS timestamptz[]))
                AS u(tenant_id, profile_id, next_change_at)
             WHERE c.tenant_id = u.tenant_id AND c.profile_id = u.profile_id
        """),
            {"t": [r[0][0] for r in rows], "p": [r[0][1] for r in rows], "n": [r[1] for r in rows]},
        )

    async def delete(self, refs: Sequence[ProfileRef]) -> None:
        if refs:
            c = profile_counters.c
            await self.session.execute(
                delete(profile_counters).where(tuple_(c.tenant_id, c.profile_id).in_(list(refs)))
            )

    async def due_tenants(self, now: datetime) -> list[str]:
        c = profile_counters.c
        return list(
            (await self.session.execute(select(c.tenant_id).where(c.next_change_at <= now).distinct()))
            .scalars()
            .all()
        )

    async def due_profiles(self, tenant_id: str, now: datetime, limit: int) -> list[ProfileRef]:
        c = profile_counters.c
        rows = (
            (
                await self.session.execute(
                    select(c.profile_id)
                    .where(c.tenant_id == tenant_id, c.next_change_at <= now)
                    .order_by(c.next_change_at)
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
        return [(tenant_id, p) for p in rows]


class CountersRepository(RepositoryBase):
    """One tenant's published counters (the API's read)."""

    async def get(self, profile_id: str) -> tuple[dict[str, Any], datetime] | None:
        c = profile_counters.c
        row = (
            await self.session.execute(
                select(c.counters, c.as_of).where(self.owns(profile_counters), c.profile_id == profile_id)
            )
        ).first()
        return (row.counters, row.as_of) if row else None
