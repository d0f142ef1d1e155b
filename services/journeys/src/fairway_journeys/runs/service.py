"""Moving runs: enrolment (with the entry rules), timers falling due, awaited events arriving, goals and exits.
Every function here works on a batch and flushes its effects with a few statements, in the caller's transaction.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from fairway_chassis import NotFound
from fairway_journeys.db import journeys as journeys_table
from fairway_journeys.db import split_winners
from fairway_journeys.definitions.model import Definition
from fairway_journeys.readmodel.member import Member
from fairway_journeys.readmodel.repository import MemberRepository
from fairway_journeys.runs.deps import RunDeps
from fairway_journeys.runs.engine import DISPATCH_WAIT, Context, Engine
from fairway_journeys.runs.model import ACTIVE, Due, Run
from fairway_journeys.runs.repository import RunRepository, TimerQueue
from fairway_journeys.runs.writes import Writes


@dataclass(frozen=True)
class Candidate:
    """A member a trigger (or the API) wants to put into a journey's active version."""

    journey_id: str
    version: int
    profile_id: str
    entry_key: str | None  # None: decided by the entry rules (once, or the trigger event's id)
    trigger: str
    trigger_event_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class EnrolResult:
    started: list[Run] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # profile id -> why not


async def _context(session: AsyncSession, deps: RunDeps, tenant_id: str, runs: Sequence[Run],
                   now: datetime, members: dict[str, Member] | None = None) -> Context:
    defs: dict[tuple[str, int], Definition] = {}
    for r in runs:
        if (r.journey_id, r.version) not in defs:
            d = await deps.versions.get(session, tenant_id, r.journey_id, r.version)
            assert d is not None, f"run {r.id} names a version that does not exist"
            defs[(r.journey_id, r.version)] = d
    if members is None:
        members = await MemberRepository(session, tenant_id).load(r.profile_id for r in runs)
    journey_ids = sorted({r.journey_id for r in runs})
    winners = {}
    archived = set()
    if journey_ids:
        for j, v, s, b in (await session.execute(select(
                split_winners.c.journey_id, split_winners.c.version, split_winners.c.step_id, split_winners.c.branch
        ).where(split_winners.c.tenant_id == tenant_id, split_winners.c.journey_id.in_(journey_ids)))).all():
            winners[(tenant_id, j, v, s)] = b
        for (j,) in (await session.execute(select(journeys_table.c.id).where(
                journeys_table.c.tenant_id == tenant_id, journeys_table.c.id.in_(journey_ids),
                journeys_table.c.status == "ARCHIVED"))).all():
            archived.add((tenant_id, j))
    return Context(now=now, definitions=defs, members={(tenant_id, p): m for p, m in members.items()},
                   winners=winners, archived=archived)


async def enrol(session: AsyncSession, deps: RunDeps, tenant_id: str, candidates: Sequence[Candidate],
                now: datetime) -> EnrolResult:
    """Apply each journey's entry rules, insert the runs that may start (the unique entry key keeps a retried or
    duplicated trigger from starting a second run), and walk them to their first wait."""
    result = EnrolResult()
    if not candidates:
        return result
    repo = RunRepository(session, tenant_id)
    members = await MemberRepository(session, tenant_id).load(c.profile_id for c in candidates)
    history = await repo.history([(c.journey_id, c.profile_id) for c in candidates])
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    pending: dict[str, tuple[Candidate, dict[str, Any]]] = {}
    for c in candidates:
        d = await deps.versions.get(session, tenant_id, c.journey_id, c.version)
        assert d is not None
        why = _refusal(d, c, members.get(c.profile_id), history.get((c.journey_id, c.profile_id)), now,
                       (c.journey_id, c.profile_id) in seen)
        if why:
            result.refused[c.profile_id] = why
            continue
        if d.entry.oneActiveRun or (not d.entry.reentry and c.entry_key is None):
            seen.add((c.journey_id, c.profile_id))  # a second candidate in this batch would be a second run
        key = c.entry_key or ("once" if not d.entry.reentry else f"event:{c.trigger_event_id or uuid7()}")
        row = {"id": str(uuid7()), "tenant_id": tenant_id, "journey_id": c.journey_id, "version": c.version,
               "profile_id": c.profile_id, "entry_key": key, "status": ACTIVE, "step_id": None, "seq": 0,
               "waiting": None, "step_entered_at": now, "started_at": now, "ended_at": None, "end_reason": None,
               "trigger": c.trigger, "context": {"trigger": c.context} if c.context else {}}
        rows.append(row)
        pending[row["id"]] = (c, row)
    kept = await repo.insert_new(rows)
    runs = [Run(**row) for rid, (_, row) in pending.items() if rid in kept]
    for rid, (c, _) in pending.items():
        if rid not in kept:
            result.refused[c.profile_id] = "already entered (same entry key)"
    if not runs:
        return result
    writes = Writes()
    engine = Engine(await _context(session, deps, tenant_id, runs, now, members), writes)
    for run in runs:
        engine.start(run, pending[run.id][0].trigger_event_id)
    await writes.flush(session, deps.scheduler)
    result.started = runs
    return result


def _refusal(d: Definition, c: Candidate, member: Member | None, history: tuple[datetime, bool] | None,
             now: datetime, again_in_batch: bool) -> str | None:
    if member is None or not member.eligible:
        return "not a known, active member"
    if d.entry.segmentId and d.entry.segmentId not in member.segments:
        return f"not in the entry segment {d.entry.segmentId}"
    if again_in_batch:
        return "already entering in this batch"
    if history is not None:
        last_start, has_active = history
        if d.entry.oneActiveRun and has_active:
            return "already has a run in progress"
        if not d.entry.reentry and c.entry_key is None:
            return "has been in this journey before and re-entry is off"
        if d.entry.minDaysBetween and last_start > now - timedelta(days=d.entry.minDaysBetween):
            return f"entered less than {d.entry.minDaysBetween} days ago"
    return None


def _timer_outcome(run: Run) -> str:
    if run.waiting == DISPATCH_WAIT:
        return "sent"  # dispatch never answered: carry on as if it sent
    return "timeout" if run.waiting == "event" else "next"


async def fire_due(session: AsyncSession, deps: RunDeps, tenant_id: str, now: datetime, limit: int) -> list[Due]:
    """Claim up to `limit` of the tenant's due timers and move their runs on, in this transaction."""
    due = await TimerQueue(session).claim_due(tenant_id, now, limit)
    by_tenant: dict[str, list[Due]] = defaultdict(list)
    for d in due:
        by_tenant[d.tenant_id].append(d)
    writes = Writes()
    for tenant_id, items in sorted(by_tenant.items()):
        locked = await RunRepository(session, tenant_id).lock(d.run_id for d in items)
        runs = [locked[d.run_id] for d in items if d.run_id in locked and locked[d.run_id].seq == d.seq]
        if not runs:
            continue
        engine = Engine(await _context(session, deps, tenant_id, runs, now), writes)
        for run in runs:
            engine.resume(run, _timer_outcome(run))
    await writes.flush(session, deps.scheduler)
    return due


async def resume_waiting(session: AsyncSession, deps: RunDeps, tenant_id: str, event_type: str,
                         arrivals: dict[str, dict[str, Any]], now: datetime, *, outcome: str | None = None) -> int:
    """Runs waiting for `event_type` with one of the keys of `arrivals` (key -> detail) move on."""
    repo = RunRepository(session, tenant_id)
    waiting = await repo.waiting_for(event_type, arrivals)
    if not waiting:
        return 0
    locked = await repo.lock(r for r, _, _ in waiting)
    matches = [(locked[r], key) for r, seq, key in waiting if r in locked and locked[r].seq == seq]
    if not matches:
        return 0
    writes = Writes()
    engine = Engine(await _context(session, deps, tenant_id, [r for r, _ in matches], now), writes)
    for run, key in matches:
        detail = arrivals[key]
        engine.resume(run, outcome or str(detail.get("outcome", "event")), detail)
    await writes.flush(session, deps.scheduler)
    return len(matches)


async def end_runs(session: AsyncSession, deps: RunDeps, tenant_id: str, runs: Sequence[Run],
                   status: str, reason: str | None, now: datetime, *, goal_event_id: str | None = None) -> int:
    runs = [r for r in runs if r.active]
    if not runs:
        return 0
    writes = Writes()
    engine = Engine(await _context(session, deps, tenant_id, runs, now, members={}), writes)
    for run in runs:
        engine.end(run, status, reason, goal_event_id=goal_event_id)
    await writes.flush(session, deps.scheduler)
    return len(runs)


async def member_runs(session: AsyncSession, tenant_id: str, profile_id: str, status: str | None, after: str | None,
                      limit: int) -> list[Run]:
    """A member's runs (`limit` of them after `after`); 404 for a profile journeys has never heard of, so an id
    that is not one (a typo, not a UUID) is not answered with an empty list as if it were a member."""
    rows = await RunRepository(session, tenant_id).page(None, profile_id, status, after, limit)
    if not rows and after is None and not await MemberRepository(session, tenant_id).load([profile_id]):
        raise NotFound(f"no member {profile_id!r}")
    return rows


def explain(run: Run, step: Any, due: datetime | None) -> str:
    """Where a run is and why, in words, for staff looking at a member."""
    where = f"step {run.step_id!r}" + (f" ({step.type})" if step is not None else "")
    if run.status == "CONVERTED":
        return f"converted: the goal was reached at {where}"
    if run.status == "EXITED":
        return f"exited at {where}: {run.end_reason}"
    if run.status == "COMPLETED":
        return f"completed at {where}"
    if run.waiting == DISPATCH_WAIT:
        return f"at {where}, waiting for dispatch to say whether the message was sent"
    if run.waiting == "event":
        until = f" or until {due.isoformat()}" if due else ""
        return f"at {where}, waiting for {getattr(step, 'eventType', 'an event')}{until}"
    if run.waiting == "timer" and due is not None:
        return f"at {where}, waiting until {due.isoformat()}"
    return f"at {where}"
