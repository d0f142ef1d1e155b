"""Per-tenant upkeep, run as a procrastinate job: runs of archived journeys exit, date triggers enrol the members
whose day has come, and A/B SPLITs whose winner is clear get it."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_journeys.db import date_trigger_days, journeys
from fairway_journeys.definitions.model import DateTrigger, SplitStep
from fairway_journeys.definitions.repository import Journey, JourneyRepository
from fairway_journeys.readmodel.repository import MemberRepository
from fairway_journeys.runs import abtest
from fairway_journeys.runs import service as runs
from fairway_journeys.runs.model import EXITED
from fairway_journeys.runs.repository import RunRepository, SplitStats
from fairway_journeys.runs.timing import local_to_utc
from fairway_journeys.state import JourneysState

log = structlog.get_logger("fairway.journeys.upkeep")
EXIT_BATCH = 1000
_COLUMN = {"membershipExpiry": "membership_expiry", "memberSince": "member_since", "birthday": "date_of_birth"}


async def tenants_with_work(session: AsyncSession) -> list[str]:
    """Tenants with an active or archived journey (the only ones upkeep can have anything to do for)."""
    q = select(journeys.c.tenant_id).where(journeys.c.status.in_(("ACTIVE", "ARCHIVED"))).distinct()
    return list((await session.execute(q)).scalars().all())


async def run(sessions: async_sessionmaker[AsyncSession], state: JourneysState, tenant_id: str) -> None:
    async with sessions() as session:
        listed = await JourneyRepository(session, tenant_id).with_status(("ACTIVE", "ARCHIVED"))
    for j in listed:
        if j.status == "ARCHIVED":
            await exit_archived(sessions, state, tenant_id, j.id)
        elif j.active_version is not None:
            await sweep_date_trigger(sessions, state, j)
            await decide_splits(sessions, state, j)


async def exit_archived(sessions: async_sessionmaker[AsyncSession], state: JourneysState, tenant_id: str,
                        journey_id: str) -> int:
    total = 0
    while True:
        async with sessions() as session, session.begin():
            batch = await RunRepository(session, tenant_id).active_of_journey(journey_id, EXIT_BATCH)
            n = await runs.end_runs(session, state.deps, tenant_id, batch, EXITED, "ARCHIVED", state.clock.now())
        total += n
        if len(batch) < EXIT_BATCH:
            return total


async def sweep_date_trigger(sessions: async_sessionmaker[AsyncSession], state: JourneysState, j: Journey) -> int:
    """Once per local day, at the trigger's time of day in the journey's time zone: members whose date attribute,
    moved by the offset, is today enter (keyed by the date, so each expiry or birthday enters once)."""
    assert j.active_version is not None
    async with sessions() as session:
        d = await state.deps.versions.get(session, j.tenant_id, j.id, j.active_version)
    if d is None or not isinstance(d.trigger, DateTrigger):
        return 0
    t = d.trigger
    tz = ZoneInfo(d.timezone)
    now = state.clock.now()
    today = now.astimezone(tz).date()
    h, m = (int(x) for x in t.at.split(":"))
    if now < local_to_utc(datetime(today.year, today.month, today.day, h, m), tz):
        return 0
    target = today - timedelta(days=t.offsetDays)  # offset -30: expiry 30 days from today
    async with sessions() as session, session.begin():
        claimed = await session.execute(insert(date_trigger_days).values(
            tenant_id=j.tenant_id, journey_id=j.id, day=today, swept_at=now, entered=0).on_conflict_do_nothing())
        if not claimed.rowcount:
            return 0  # swept already today (by this replica or another, before or after a restart)
        members = MemberRepository(session, j.tenant_id)
        if t.attribute == "birthday":
            pids = await members.with_date(_COLUMN[t.attribute], month_day=(target.month, target.day))
        else:
            pids = await members.with_date(_COLUMN[t.attribute], day=target)
        result = await runs.enrol(session, state.deps, j.tenant_id, [
            runs.Candidate(journey_id=j.id, version=j.active_version, profile_id=p,
                           entry_key=f"date:{t.attribute}:{target.isoformat()}" if t.attribute != "birthday"
                           else f"date:birthday:{today.isoformat()}", trigger=f"date:{t.attribute}")
            for p in pids], now)
        await session.execute(date_trigger_days.update().where(
            date_trigger_days.c.tenant_id == j.tenant_id, date_trigger_days.c.journey_id == j.id,
            date_trigger_days.c.day == today).values(entered=len(result.started)))
    log.info("date trigger swept", journey_id=j.id, day=str(today), entered=len(result.started))
    return len(result.started)


async def decide_splits(sessions: async_sessionmaker[AsyncSession], state: JourneysState, j: Journey) -> list[str]:
    assert j.active_version is not None
    decided: list[str] = []
    async with sessions() as session, session.begin():
        d = await state.deps.versions.get(session, j.tenant_id, j.id, j.active_version)
        if d is None:
            return decided
        stats = SplitStats(session, j.tenant_id)
        done = await stats.decided(j.id, j.active_version)
        for step in d.steps:
            if not isinstance(step, SplitStep) or step.abTest is None or step.id in done:
                continue
            counts = await stats.arms(j.id, j.active_version, step.id, step.abTest.metric)
            arms = [abtest.Arm(b.name, *counts.get(b.name, (0, 0))) for b in step.branches]
            found = abtest.winner(arms, step.abTest.confidence, step.abTest.minSample)
            if found is None:
                continue
            branch, confidence = found
            evidence = {a.branch: {"trials": a.trials, "successes": a.successes, "rate": round(a.rate, 4)}
                        for a in arms}
            if await stats.decide(j.id, j.active_version, step.id, branch, confidence,
                                  {"metric": step.abTest.metric, "arms": evidence}, state.clock.now()):
                decided.append(step.id)
                log.info("split winner chosen", journey_id=j.id, step_id=step.id, branch=branch,
                         confidence=round(confidence, 4))
    return decided
