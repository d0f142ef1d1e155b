"""SQL of the budget: atomic reservation against caps, settlement with real usage, release, alerts.

The budget is one row per tenant holding the running figures of its current day, hour and month. A reservation
is one UPDATE whose WHERE clause checks every cap against the row as it is after any concurrent reservation
committed (PostgreSQL re-checks the WHERE on the newest row version under READ COMMITTED), so however many
requests race, the sum of settled and reserved costs never passes a cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from fairway_ai_gateway.db import alert
from fairway_ai_gateway.sql import Statement
from fairway_chassis import RepositoryBase

_ROLLED = """
    CASE WHEN day_key = :day THEN day_cost ELSE 0 END AS day_cost,
    CASE WHEN day_key = :day THEN day_calls ELSE 0 END AS day_calls,
    CASE WHEN hour_key = :hour THEN hour_calls ELSE 0 END AS hour_calls,
    CASE WHEN month_key = :month THEN month_cost ELSE 0 END AS month_cost
"""

_RESERVE = Statement("""
WITH b AS (
    UPDATE ai_budget SET
        day_cost = CASE WHEN day_key = :day THEN day_cost ELSE 0 END + CAST(:amount AS BIGINT),
        day_calls = CASE WHEN day_key = :day THEN day_calls ELSE 0 END + 1,
        hour_calls = CASE WHEN hour_key = :hour THEN hour_calls ELSE 0 END + 1,
        month_cost = CASE WHEN month_key = :month THEN month_cost ELSE 0 END + CAST(:amount AS BIGINT),
        day_key = :day, hour_key = :hour, month_key = :month
    WHERE tenant_id = :tenant
      AND CASE WHEN day_key = :day THEN day_cost ELSE 0 END + CAST(:amount AS BIGINT) <= :day_cap
      AND CASE WHEN month_key = :month THEN month_cost ELSE 0 END + CAST(:amount AS BIGINT) <= :month_cap
      AND CASE WHEN day_key = :day THEN day_calls ELSE 0 END + 1 <= :day_calls_cap
      AND CASE WHEN hour_key = :hour THEN hour_calls ELSE 0 END + 1 <= :hour_calls_cap
      AND (CAST(:disable_at AS BIGINT) IS NULL
           OR CASE WHEN day_key = :day THEN day_cost ELSE 0 END < CAST(:disable_at AS BIGINT))
    RETURNING day_cost, month_cost
)
INSERT INTO ai_reservation (id, tenant_id, decision_id, operation, amount, day_key, month_key, expires_at)
SELECT CAST(:id AS TEXT), CAST(:tenant AS TEXT), CAST(:decision_id AS TEXT), CAST(:operation AS TEXT),
       CAST(:amount AS BIGINT), CAST(:day AS TEXT),
       CAST(:month AS TEXT), CAST(:expires_at AS TIMESTAMPTZ) FROM b
RETURNING (SELECT day_cost FROM b) AS day_cost, (SELECT month_cost FROM b) AS month_cost
""")

_SETTLE = Statement("""
WITH r AS (DELETE FROM ai_reservation WHERE id = :id AND tenant_id = :tenant RETURNING amount, day_key, month_key)
UPDATE ai_budget b SET
    day_cost = CASE WHEN b.day_key = r.day_key THEN GREATEST(b.day_cost - r.amount + CAST(:actual AS BIGINT), 0) ELSE b.day_cost END,
    month_cost = CASE WHEN b.month_key = r.month_key THEN GREATEST(b.month_cost - r.amount + CAST(:actual AS BIGINT), 0)
                      ELSE b.month_cost END
FROM r WHERE b.tenant_id = :tenant
RETURNING b.day_key, b.day_cost, b.month_key, b.month_cost
""")


_ENSURE = Statement(
    "INSERT INTO ai_budget (tenant_id) VALUES (:tenant) ON CONFLICT DO NOTHING RETURNING tenant_id"
)
_FIGURES = Statement(f"SELECT {_ROLLED} FROM ai_budget WHERE tenant_id = :tenant")  # noqa: S608 (constant SQL)


@dataclass(frozen=True)
class Figures:
    day_cost: int
    day_calls: int
    hour_calls: int
    month_cost: int


@dataclass(frozen=True)
class Settled:
    day_key: str
    day_cost: int
    month_key: str
    month_cost: int


@dataclass(frozen=True)
class Caps:
    day_cost: int
    month_cost: int
    day_calls: int
    hour_calls: int
    disable_at: int | None  # today's cost from which no call is allowed (onCritical DISABLE)


class BudgetRepository(RepositoryBase):
    """One tenant's budget. `session`: an SQLAlchemy session (in a transaction) or, on the hot path, an asyncpg
    connection (autocommit): reserve, figures and settle run on either (see `sql.Statement`); the rest needs a
    session."""

    async def ensure(self) -> None:
        await _ENSURE.first(self.session, {"tenant": self.tenant_id})

    async def reserve(
        self,
        *,
        reservation_id: str,
        decision_id: str,
        operation: str,
        amount: int,
        day: str,
        hour: str,
        month: str,
        caps: Caps,
        expires_at: datetime,
    ) -> tuple[int, int] | None:
        """(day cost, month cost) after reserving, or None when a cap refuses it."""
        row = await _RESERVE.first(
            self.session,
            {
                "id": reservation_id,
                "tenant": self.tenant_id,
                "decision_id": decision_id,
                "operation": operation,
                "amount": amount,
                "day": day,
                "hour": hour,
                "month": month,
                "day_cap": caps.day_cost,
                "month_cap": caps.month_cost,
                "day_calls_cap": caps.day_calls,
                "hour_calls_cap": caps.hour_calls,
                "disable_at": caps.disable_at,
                "expires_at": expires_at,
            },
        )
        return None if row is None else (row["day_cost"], row["month_cost"])

    async def figures(self, *, day: str, hour: str, month: str) -> Figures:
        row = await _FIGURES.first(
            self.session, {"tenant": self.tenant_id, "day": day, "hour": hour, "month": month}
        )
        if row is None:
            return Figures(0, 0, 0, 0)
        return Figures(row["day_cost"], row["day_calls"], row["hour_calls"], row["month_cost"])

    async def settle(self, *, reservation_id: str, actual: int) -> Settled | None:
        """Replace the reservation's worst case by the real cost. None when the reservation is gone (the sweeper
        charged it at its worst case, which already covers any real cost)."""
        row = await _SETTLE.first(self.session, {"id": reservation_id, "tenant": self.tenant_id, "actual": actual})
        return (
            None
            if row is None
            else Settled(row["day_key"], row["day_cost"], row["month_key"], row["month_cost"])
        )

    async def outstanding(self) -> int:
        return int(
            (
                await self.session.execute(
                    text("SELECT count(*) FROM ai_reservation WHERE tenant_id = :t"), {"t": self.tenant_id}
                )
            ).scalar_one()
        )

    async def claim_alert(self, period_key: str, level: str) -> bool:
        """True the first time this alert fires for the period."""
        res = await self.session.execute(
            insert(alert)
            .values(tenant_id=self.tenant_id, period_key=period_key, level=level)
            .on_conflict_do_nothing()
            .returning(alert.c.level)
        )
        return res.first() is not None

    async def fired_alerts(self, period_keys: list[str]) -> set[tuple[str, str]]:
        rows = await self.session.execute(
            alert.select()
            .with_only_columns(alert.c.period_key, alert.c.level)
            .where(self.owns(alert), alert.c.period_key.in_(period_keys))
        )
        return {(r.period_key, r.level) for r in rows}


class ReservationSweep:
    """The sweeper's view, across tenants by design: it takes every expired reservation, and each is charged and
    logged under its own tenant."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def take_orphans(self, now: datetime, limit: int = 500) -> list[Any]:
        """Remove reservations whose request never settled (a crashed replica, a lost record) and return them.
        Their worst-case amount stays charged: the call may have been billed, and a cap must never be passed."""
        rows = await self.session.execute(
            text(
                "DELETE FROM ai_reservation WHERE id IN (SELECT id FROM ai_reservation WHERE expires_at < :now "
                "ORDER BY expires_at LIMIT :n FOR UPDATE SKIP LOCKED) "
                "RETURNING id, tenant_id, decision_id, operation, amount, created_at"
            ),
            {"now": now, "n": limit},
        )
        return list(rows)
