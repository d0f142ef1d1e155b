"""Durable work on procrastinate: firing timers, and per-tenant upkeep (date triggers, A/B winners, archived
journeys' runs).

Timers are rows of `run_timers` (due_at indexed), not one job each: procrastinate fetches one job per query, so
100,000 timers due in one minute would be 100,000 fetches. Instead, setting timers defers, in the same transaction,
one `fire_timers` job per tenant and second they fall due in (a queueing lock keeps it to one waiting job per
second), scheduled for the end of that second, so a timer never fires early. The job claims due timers in
set-based batches (DELETE ... FOR UPDATE SKIP LOCKED ... RETURNING), moves their runs on and commits each batch
with its step effects and outbox events. A periodic tick defers a `fire_timers` for any tenant with overdue timers
(a job lost with a killed worker is also handed back by the chassis' stalled-job recovery), so no timer is lost.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Histogram
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_chassis.app import Runtime
from fairway_chassis.jobs import JobRegistry, Jobs
from fairway_journeys import upkeep
from fairway_journeys.runs import service as runs
from fairway_journeys.runs.repository import TimerQueue
from fairway_journeys.state import JourneysState

log = structlog.get_logger("fairway.journeys.jobs")
TIMER_LAG = Histogram("fairway_journeys_timer_lag_seconds", "How late timers fired after they fell due",
                      buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 600))
FIRE_BATCH = 2000


@dataclass
class JobContext:
    sessions: async_sessionmaker[AsyncSession]
    state: JourneysState


def _context(runtime: Runtime[Any]) -> JobContext:
    assert runtime.sessionmaker is not None
    return JobContext(sessions=runtime.sessionmaker, state=runtime.state)


registry: JobRegistry[JobContext] = JobRegistry(service="journeys", context=_context)


def bucket(due: datetime) -> datetime:
    """The end of the second `due` falls in: the job runs no earlier than every timer it is for."""
    return datetime.fromtimestamp(math.ceil(due.timestamp()), tz=UTC)


class JobsTimerScheduler:
    """Wakes the engine through procrastinate jobs deferred in the transaction that sets the timers."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs

    async def schedule(self, session: AsyncSession, tenant_id: str, due: Iterable[datetime]) -> None:
        for at in sorted({bucket(d) for d in due}):
            await self.jobs.defer_in(session, fire_timers, tenant_id=tenant_id, schedule_at=at,
                                     queueing_lock=f"timers:{tenant_id}:{int(at.timestamp())}")


async def fire_all_due(ctx: JobContext, tenant_id: str, *, batch: int = FIRE_BATCH) -> int:
    """Fire the tenant's due timers, one committed transaction per batch, until none is due."""
    fired = 0
    while True:
        now = ctx.state.clock.now()
        async with ctx.sessions() as session, session.begin():
            due = await runs.fire_due(session, ctx.state.deps, tenant_id, now, batch)
        for d in due:
            TIMER_LAG.observe(max(0.0, (now - d.due_at).total_seconds()))
        fired += len(due)
        if len(due) < batch:
            return fired


@registry.task("journeys.fire_timers", queue="journeys-timers")
async def fire_timers(ctx: JobContext, *, tenant_id: str) -> None:
    started = time.monotonic()
    n = await fire_all_due(ctx, tenant_id)
    if n:
        log.info("timers fired", tenant_id=tenant_id, count=n, seconds=round(time.monotonic() - started, 3))


@registry.task("journeys.upkeep")
async def tenant_upkeep(ctx: JobContext, *, tenant_id: str) -> None:
    await upkeep.run(ctx.sessions, ctx.state, tenant_id)


@registry.periodic("journeys.tick", cron="*/15 * * * * *")
async def tick(ctx: JobContext, *, timestamp: int) -> None:
    """Every 15 s: overdue timers (the safety net), and each tenant's upkeep."""
    now = ctx.state.clock.now()
    jobs = ctx.state.jobs
    if jobs is None:
        return
    async with ctx.sessions() as session:
        overdue = await TimerQueue(session).overdue_tenants(now - timedelta(seconds=5))
        tenants = await upkeep.tenants_with_work(session)
    for tenant_id in overdue:
        await jobs.defer(fire_timers, tenant_id=tenant_id, queueing_lock=f"timers:{tenant_id}:overdue")
    for tenant_id in tenants:
        await jobs.defer(tenant_upkeep, tenant_id=tenant_id, queueing_lock=f"upkeep:{tenant_id}")
