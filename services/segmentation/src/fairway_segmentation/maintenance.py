"""The background loop: membership that moves because time passes, and the scheduled full refresh.

Rules with relative dates ("lastBookingAt lt -30 days") change membership without any event; segments using
them are re-evaluated every `time_recheck_seconds` (timestamps) or when the UTC day changes (calendar dates).
Every active dynamic segment is also fully refreshed every `refresh_interval_hours`. Each segment is handled in
its own transaction, under its advisory lock taken with try-lock, so replicas share the work without waiting.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_chassis import Clock, Runtime, run_every
from fairway_schemas.criteria_eval import utc_day
from fairway_segmentation.segments import engine
from fairway_segmentation.segments.repository import SegmentRepository, SegmentSchedule
from fairway_segmentation.settings import Settings

log = structlog.get_logger("fairway.segmentation.maintenance")


async def due_segments(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> list[tuple[str, str, str]]:
    now = clock.now()
    recheck = timedelta(seconds=settings.time_recheck_seconds)
    due: dict[tuple[str, str], str] = {}
    async with sessionmaker() as session:
        schedule = SegmentSchedule(session)
        for key in await schedule.refresh_candidates(now - timedelta(hours=settings.refresh_interval_hours)):
            due[key] = "scheduled"
        for r in await schedule.time_sensitive():  # when both are due, time passing is the better explanation
            last = r.time_checked_at
            if (
                last is None
                or (r.time_sensitivity == "instant" and now - last >= recheck)
                or (r.time_sensitivity == "day" and utc_day(now) != utc_day(last))
            ):
                due[(r.tenant_id, r.segment_id)] = "time"
    return [(t, s, reason) for (t, s), reason in sorted(due.items())]


async def run_once(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings) -> int:
    """Refresh every segment that is due; returns how many were refreshed."""
    done = 0
    for tenant_id, segment_id, reason in await due_segments(sessionmaker, clock, settings):
        async with sessionmaker() as session, session.begin():
            if not await SegmentRepository.for_tenant(session, tenant_id).try_lock(segment_id):
                continue  # a replica or a person is refreshing it right now
            diff = await engine.refresh(
                session, tenant_id, segment_id, now=clock.now(), reason=reason, locked=True
            )
        if diff is not None:
            done += 1
            if diff.entered or diff.exited:
                log.info(
                    "segment re-evaluated",
                    tenant_id=tenant_id,
                    segment_id=segment_id,
                    reason=reason,
                    entered=diff.entered,
                    exited=diff.exited,
                    size=diff.size,
                )
    return done


def loop(clock: Clock):  # noqa: ANN201
    async def maintenance_loop(runtime: Runtime) -> None:
        settings = runtime.settings
        sessionmaker = runtime.sessionmaker
        assert isinstance(settings, Settings) and sessionmaker is not None
        if not settings.maintenance:
            return
        await run_every(
            "segment-maintenance",
            settings.maintenance_interval_seconds,
            lambda: run_once(sessionmaker, clock, settings),
            run_at_start=True,
        )

    return maintenance_loop
