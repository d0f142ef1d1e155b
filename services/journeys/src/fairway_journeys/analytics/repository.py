"""All SQL of journey analytics: aggregates over runs, their steps and sends, for one tenant and journey."""
from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_RUNS = text(
    "SELECT version, status, end_reason, count(*) AS n FROM runs WHERE tenant_id = :t AND journey_id = :j"
    " GROUP BY 1, 2, 3")
_STEPS = text(
    "SELECT version, step_id, min(step_type) AS step_type, count(*) AS entered,"
    " count(*) FILTER (WHERE outcome IS NOT NULL AND outcome NOT IN ('exited', 'converted')) AS completed,"
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - entered_at))"
    "   FILTER (WHERE completed_at IS NOT NULL) AS median_seconds"
    " FROM run_steps WHERE tenant_id = :t AND journey_id = :j GROUP BY 1, 2")
_OUTCOMES = text(
    "SELECT version, step_id, outcome, count(*) AS n FROM run_steps"
    " WHERE tenant_id = :t AND journey_id = :j AND outcome IS NOT NULL GROUP BY 1, 2, 3")
_WAITING = text(
    "SELECT version, step_id, count(*) AS n FROM runs WHERE tenant_id = :t AND journey_id = :j AND status = 'ACTIVE'"
    " GROUP BY 1, 2")
_ENDED_AT = text(
    "SELECT version, step_id, status, end_reason, count(*) AS n FROM runs"
    " WHERE tenant_id = :t AND journey_id = :j AND status IN ('EXITED', 'CONVERTED') GROUP BY 1, 2, 3, 4")
_SENDS = text(
    "SELECT version, step_id, channel, coalesce(outcome, 'PENDING') AS outcome, count(*) AS n,"
    " count(opened_at) AS opens, count(clicked_at) AS clicks"
    " FROM sends WHERE tenant_id = :t AND journey_id = :j GROUP BY 1, 2, 3, 4")


class AnalyticsRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def _rows(self, q: Any, journey_id: str) -> list[Any]:
        return list((await self.session.execute(q, {"t": self.tenant_id, "j": journey_id})).all())

    async def runs(self, journey_id: str) -> list[Any]:
        return await self._rows(_RUNS, journey_id)

    async def steps(self, journey_id: str) -> list[Any]:
        return await self._rows(_STEPS, journey_id)

    async def outcomes(self, journey_id: str) -> list[Any]:
        return await self._rows(_OUTCOMES, journey_id)

    async def waiting(self, journey_id: str) -> list[Any]:
        return await self._rows(_WAITING, journey_id)

    async def ended_at(self, journey_id: str) -> list[Any]:
        return await self._rows(_ENDED_AT, journey_id)

    async def sends(self, journey_id: str) -> list[Any]:
        return await self._rows(_SENDS, journey_id)
