"""All SQL on runs, their steps, timers, waits and sends. Writes are set-based: a batch of runs costs a handful
of statements whatever its size (100,000 timers falling due in one minute must all fire within it)."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, bindparam, delete, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_journeys.db import run_steps, run_timers, run_waits, runs, sends, split_winners
from fairway_journeys.runs.model import ACTIVE, Due, Run
from fairway_journeys.sql import among

_RUN_COLUMNS = [c.name for c in runs.c]

# Claims a tenant's due timers (row locks, SKIP LOCKED so several jobs share the work) and deletes them in the
# claiming transaction, so a timer fires in exactly the transaction that moves its run on.
_CLAIM_DUE = text(
    "DELETE FROM run_timers WHERE run_id IN ("
    " SELECT run_id FROM run_timers WHERE tenant_id = :tenant AND due_at <= :now ORDER BY due_at LIMIT :limit"
    " FOR UPDATE SKIP LOCKED)"
    " RETURNING tenant_id, run_id, seq, due_at"
)

_UPDATE_RUNS = text(
    "UPDATE runs AS r SET status = u.status, step_id = u.step_id, seq = u.seq, waiting = u.waiting,"
    " step_entered_at = u.step_entered_at, ended_at = u.ended_at, end_reason = u.end_reason,"
    " context = u.context::jsonb"
    " FROM unnest(:ids, :statuses, :steps, :seqs, :waitings, :entered, :ended, :reasons, :contexts)"
    " AS u(id, status, step_id, seq, waiting, step_entered_at, ended_at, end_reason, context)"
    " WHERE r.id = u.id AND r.tenant_id = :tenant"
).bindparams(
    bindparam("ids", type_=ARRAY(String)), bindparam("statuses", type_=ARRAY(String)),
    bindparam("steps", type_=ARRAY(String)), bindparam("waitings", type_=ARRAY(String)),
    bindparam("reasons", type_=ARRAY(String)), bindparam("seqs", type_=ARRAY(Integer)),
    bindparam("entered", type_=ARRAY(DateTime(timezone=True))), bindparam("ended", type_=ARRAY(DateTime(timezone=True))),
    bindparam("contexts", type_=ARRAY(Text)),
)

_COMPLETE_STEPS = text(
    "UPDATE run_steps AS s SET completed_at = u.at, outcome = u.outcome"
    " FROM unnest(:ids, :seqs, :ats, :outcomes) AS u(run_id, seq, at, outcome)"
    " WHERE s.run_id = u.run_id AND s.seq = u.seq AND s.tenant_id = :tenant"
).bindparams(bindparam("ids", type_=ARRAY(String)), bindparam("outcomes", type_=ARRAY(String)),
             bindparam("seqs", type_=ARRAY(Integer)), bindparam("ats", type_=ARRAY(DateTime(timezone=True))))


# One statement, one plan, whatever the batch size (a multi-row VALUES compiles 16 parameters per run afresh).
_INSERT_RUNS = text(
    "INSERT INTO runs (id, tenant_id, journey_id, version, profile_id, entry_key, status, step_id, seq, waiting,"
    " step_entered_at, started_at, trigger, context)"
    " SELECT u.id, :tenant, u.journey_id, u.version, u.profile_id, u.entry_key, 'ACTIVE', NULL, 0, NULL,"
    " u.started_at, u.started_at, u.trigger, u.context::jsonb"
    " FROM unnest(:id, :journey_id, :version, :profile_id, :entry_key, :started_at, :trigger, :context)"
    " AS u(id, journey_id, version, profile_id, entry_key, started_at, trigger, context)"
    " ON CONFLICT DO NOTHING RETURNING id"
).bindparams(
    bindparam("id", type_=ARRAY(String)), bindparam("journey_id", type_=ARRAY(String)),
    bindparam("version", type_=ARRAY(Integer)), bindparam("profile_id", type_=ARRAY(String)),
    bindparam("entry_key", type_=ARRAY(Text)), bindparam("started_at", type_=ARRAY(DateTime(timezone=True))),
    bindparam("trigger", type_=ARRAY(Text)), bindparam("context", type_=ARRAY(Text)),
)


_HISTORY = text(
    "SELECT r.journey_id, r.profile_id, max(r.started_at), bool_or(r.status = 'ACTIVE')"
    " FROM unnest(:journeys, :profiles) AS u(journey_id, profile_id)"
    " JOIN runs r ON r.tenant_id = :tenant AND r.journey_id = u.journey_id AND r.profile_id = u.profile_id"
    " GROUP BY 1, 2"
).bindparams(bindparam("journeys", type_=ARRAY(String)), bindparam("profiles", type_=ARRAY(String)))


def _run(row: Any) -> Run:
    m = row._mapping
    return Run(**{k: m[k] for k in _RUN_COLUMNS})


class TimerQueue:
    """Due timers (see `_CLAIM_DUE`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim_due(self, tenant_id: str, now: datetime, limit: int) -> list[Due]:
        rows = (await self.session.execute(_CLAIM_DUE, {"tenant": tenant_id, "now": now, "limit": limit})).all()
        return [Due(r.tenant_id, r.run_id, r.seq, r.due_at) for r in rows]

    async def overdue_tenants(self, before: datetime) -> list[str]:
        """The safety net's question, across tenants: whose timers are past due and not yet fired?"""
        q = select(run_timers.c.tenant_id).where(run_timers.c.due_at <= before).distinct()
        return list((await self.session.execute(q)).scalars().all())


class RunRepository:
    """Runs of one tenant."""

    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    # -- reading ---------------------------------------------------------------------------------------
    async def lock(self, run_ids: Iterable[str]) -> dict[str, Run]:
        """Active runs by id, locked until commit: whoever holds the lock is the only one moving the run."""
        ids = sorted(set(run_ids))
        if not ids:
            return {}
        q = (select(runs).where(runs.c.tenant_id == self.tenant_id, among(runs.c.id, ids), runs.c.status == ACTIVE)
             .order_by(runs.c.id).with_for_update())
        return {r.id: r for r in map(_run, (await self.session.execute(q)).all())}

    async def active_of_profiles(self, profile_ids: Iterable[str], *, lock: bool = True) -> list[Run]:
        ids = sorted(set(profile_ids))
        if not ids:
            return []
        q = select(runs).where(runs.c.tenant_id == self.tenant_id, among(runs.c.profile_id, ids),
                               runs.c.status == ACTIVE).order_by(runs.c.id)
        if lock:
            q = q.with_for_update()
        return [_run(r) for r in (await self.session.execute(q)).all()]

    async def active_of_journey(self, journey_id: str, limit: int) -> list[Run]:
        q = (select(runs).where(runs.c.tenant_id == self.tenant_id, runs.c.journey_id == journey_id,
                                runs.c.status == ACTIVE).order_by(runs.c.id).limit(limit)
             .with_for_update(skip_locked=True))
        return [_run(r) for r in (await self.session.execute(q)).all()]

    async def history(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[datetime, bool]]:
        """(journey, profile) -> (latest start, has an active run), for entry rules."""
        if not pairs:
            return {}
        unique = sorted(set(pairs))
        rows = (await self.session.execute(_HISTORY, {"tenant": self.tenant_id, "journeys": [j for j, _ in unique],
                                                      "profiles": [p for _, p in unique]})).all()
        return {(j, p): (at, act) for j, p, at, act in rows}

    async def waiting_for(self, event_type: str, keys: Iterable[str]) -> list[tuple[str, int, str]]:
        """(run id, seq, match key) of runs waiting for `event_type` with one of `keys`."""
        ks = sorted(set(keys))
        if not ks:
            return []
        q = select(run_waits.c.run_id, run_waits.c.seq, run_waits.c.match_key).where(
            run_waits.c.tenant_id == self.tenant_id, run_waits.c.event_type == event_type,
            among(run_waits.c.match_key, ks))
        return [tuple(r) for r in (await self.session.execute(q)).all()]  # type: ignore[misc]

    async def page(self, journey_id: str | None, profile_id: str | None, status: str | None,
                   after: str | None, limit: int) -> list[Run]:
        q = select(runs).where(runs.c.tenant_id == self.tenant_id)
        if journey_id:
            q = q.where(runs.c.journey_id == journey_id)
        if profile_id:
            q = q.where(runs.c.profile_id == profile_id)
        if status:
            q = q.where(runs.c.status == status)
        if after:
            q = q.where(runs.c.id < after)
        return [_run(r) for r in (await self.session.execute(q.order_by(runs.c.id.desc()).limit(limit))).all()]

    async def due_of(self, run_ids: Sequence[str]) -> dict[str, datetime]:
        if not run_ids:
            return {}
        q = select(run_timers.c.run_id, run_timers.c.due_at).where(
            run_timers.c.tenant_id == self.tenant_id, among(run_timers.c.run_id, list(run_ids)))
        return dict((await self.session.execute(q)).all())  # type: ignore[arg-type]

    # -- writing ---------------------------------------------------------------------------------------
    async def insert_new(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Insert runs; those whose (journey, profile, entry key) already exists are not: returns the ids kept."""
        if not rows:
            return set()
        cols = {c: [r[c] for r in rows] for c in ("id", "journey_id", "version", "profile_id", "entry_key",
                                                  "started_at", "trigger")}
        cols["context"] = [json.dumps(r["context"]) for r in rows]
        result = await self.session.execute(_INSERT_RUNS, {"tenant": self.tenant_id, **cols})
        return set(result.scalars().all())

    async def save(self, changed: Sequence[Run]) -> None:
        if not changed:
            return
        await self.session.execute(_UPDATE_RUNS, {
            "tenant": self.tenant_id, "ids": [r.id for r in changed], "statuses": [r.status for r in changed],
            "steps": [r.step_id for r in changed], "seqs": [r.seq for r in changed],
            "waitings": [r.waiting for r in changed], "entered": [r.step_entered_at for r in changed],
            "ended": [r.ended_at for r in changed], "reasons": [r.end_reason for r in changed],
            "contexts": [json.dumps(r.context) for r in changed],
        })

    async def add_steps(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(run_steps), list(rows))

    async def complete_steps(self, rows: Sequence[tuple[str, int, datetime, str]]) -> None:
        if rows:
            await self.session.execute(_COMPLETE_STEPS, {
                "tenant": self.tenant_id, "ids": [r[0] for r in rows], "seqs": [r[1] for r in rows],
                "ats": [r[2] for r in rows], "outcomes": [r[3] for r in rows]})

    async def clear_waits(self, run_ids: Sequence[str]) -> None:
        if run_ids:
            ids = list(run_ids)
            await self.session.execute(delete(run_timers).where(run_timers.c.tenant_id == self.tenant_id,
                                                                among(run_timers.c.run_id, ids)))
            await self.session.execute(delete(run_waits).where(run_waits.c.tenant_id == self.tenant_id,
                                                               among(run_waits.c.run_id, ids)))

    async def set_timers(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(run_timers), list(rows))

    async def set_waits(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(run_waits), list(rows))

    async def add_sends(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(sends).on_conflict_do_nothing(), list(rows))

    async def record_outcomes(self, rows: Sequence[tuple[str, str, str | None]]) -> None:
        for request_id, outcome, reason in rows:
            await self.session.execute(sends.update().where(
                sends.c.tenant_id == self.tenant_id, sends.c.request_id == request_id).values(
                outcome=outcome, reason=reason))

    async def record_engagement(self, request_ids: Sequence[str], column: str, at: datetime) -> None:
        if request_ids:
            col = sends.c[column]
            await self.session.execute(sends.update().where(
                sends.c.tenant_id == self.tenant_id, among(sends.c.request_id, list(request_ids)), col.is_(None)
            ).values({column: at}))




class SplitStats:
    """Per-branch trials and successes of one SPLIT step, for A/B decisions (one tenant)."""

    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def arms(self, journey_id: str, version: int, step_id: str, metric: str) -> dict[str, tuple[int, int]]:
        if metric == "CONVERSION":
            q = text(
                "SELECT s.outcome AS branch, count(*) AS trials, count(*) FILTER (WHERE r.status = 'CONVERTED') AS ok"
                " FROM run_steps s JOIN runs r ON r.id = s.run_id"
                " WHERE s.tenant_id = :t AND s.journey_id = :j AND s.version = :v AND s.step_id = :s"
                " AND s.outcome IS NOT NULL GROUP BY s.outcome")
        else:
            col = "opened_at" if metric == "OPEN_RATE" else "clicked_at"
            q = text(
                f"SELECT split_part(variant, ':', 2) AS branch, count(*) AS trials,"  # noqa: S608 (fixed column)
                f" count({col}) AS ok FROM sends"
                " WHERE tenant_id = :t AND journey_id = :j AND version = :v AND variant LIKE :prefix"
                " AND outcome IN ('REQUESTED', 'HELD') GROUP BY 1")
        rows = (await self.session.execute(q, {"t": self.tenant_id, "j": journey_id, "v": version, "s": step_id,
                                                "prefix": f"{step_id}:%"})).all()
        return {r.branch: (r.trials, r.ok) for r in rows}

    async def decide(self, journey_id: str, version: int, step_id: str, branch: str, confidence: float,
                     evidence: dict[str, Any], at: datetime) -> bool:
        stmt = insert(split_winners).values(
            tenant_id=self.tenant_id, journey_id=journey_id, version=version, step_id=step_id, branch=branch,
            confidence=confidence, evidence=evidence, decided_at=at).on_conflict_do_nothing()
        return bool((await self.session.execute(stmt)).rowcount)

    async def decided(self, journey_id: str, version: int) -> dict[str, str]:
        q = select(split_winners.c.step_id, split_winners.c.branch).where(
            split_winners.c.tenant_id == self.tenant_id, split_winners.c.journey_id == journey_id,
            split_winners.c.version == version)
        return dict((await self.session.execute(q)).all())  # type: ignore[arg-type]
