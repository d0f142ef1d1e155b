"""Everything a batch of runs changes, collected while the engine walks them and written at the end with a few
set-based statements, in the caller's transaction (with the inbox claim or the timer claim that caused it)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events import Envelope, new_event_id, outbox, registry
from fairway_journeys.runs.deps import TimerScheduler
from fairway_journeys.runs.model import Run
from fairway_journeys.runs.repository import RunRepository

SOURCE = "journeys"


@dataclass
class TenantWrites:
    runs: dict[str, Run] = field(default_factory=dict)  # changed runs, by id
    new_steps: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    completed: list[tuple[str, int, datetime, str]] = field(default_factory=list)  # steps entered earlier
    cleared: set[str] = field(default_factory=set)  # runs whose timer and wait go
    timers: list[dict[str, Any]] = field(default_factory=list)
    waits: list[dict[str, Any]] = field(default_factory=list)
    sends: list[dict[str, Any]] = field(default_factory=list)
    events: list[Envelope] = field(default_factory=list)


class Writes:
    def __init__(self) -> None:
        self.by_tenant: dict[str, TenantWrites] = defaultdict(TenantWrites)

    def of(self, tenant_id: str) -> TenantWrites:
        return self.by_tenant[tenant_id]

    def changed(self, run: Run) -> None:
        self.of(run.tenant_id).runs[run.id] = run

    def event(self, run: Run, payload: BaseModel, at: datetime, *, aggregate_id: str | None = None) -> None:
        # The payload was validated when it was built; validating the envelope around it again cost more than
        # the rest of a timer's firing (100,000 timers a minute make that count).
        spec = registry.spec_for(type(payload))
        self.of(run.tenant_id).events.append(Envelope.model_construct(
            event_id=new_event_id(), event_type=spec.event_type, version=spec.version, tenant_id=run.tenant_id,
            occurred_at=at, aggregate_id=aggregate_id or run.journey_id, source=SOURCE, payload=payload))

    def enter_step(self, run: Run, step_type: str, at: datetime) -> None:
        assert run.step_id is not None
        self.of(run.tenant_id).new_steps[(run.id, run.seq)] = {
            "run_id": run.id, "seq": run.seq, "tenant_id": run.tenant_id, "journey_id": run.journey_id,
            "version": run.version, "step_id": run.step_id, "step_type": step_type, "entered_at": at,
            "completed_at": None, "outcome": None}

    def complete_step(self, run: Run, at: datetime, outcome: str) -> None:
        w = self.of(run.tenant_id)
        row = w.new_steps.get((run.id, run.seq))
        if row is not None:
            row["completed_at"], row["outcome"] = at, outcome
        else:
            w.completed.append((run.id, run.seq, at, outcome))

    def clear(self, run: Run) -> None:
        self.of(run.tenant_id).cleared.add(run.id)

    def timer(self, run: Run, due_at: datetime) -> None:
        self.of(run.tenant_id).timers.append(
            {"run_id": run.id, "tenant_id": run.tenant_id, "seq": run.seq, "due_at": due_at})

    def wait(self, run: Run, event_type: str, match_key: str) -> None:
        self.of(run.tenant_id).waits.append(
            {"run_id": run.id, "tenant_id": run.tenant_id, "seq": run.seq, "event_type": event_type,
             "match_key": match_key})

    async def flush(self, session: AsyncSession, scheduler: TimerScheduler) -> None:
        for tenant_id, w in sorted(self.by_tenant.items()):
            repo = RunRepository(session, tenant_id)
            await repo.clear_waits(sorted(w.cleared))
            await repo.save(list(w.runs.values()))
            await repo.add_steps(list(w.new_steps.values()))
            await repo.complete_steps(w.completed)
            await repo.set_timers(w.timers)
            if w.timers:
                await scheduler.schedule(session, tenant_id, {t["due_at"] for t in w.timers})
            await repo.set_waits(w.waits)
            await repo.add_sends(w.sends)
            await outbox.append_many(session, w.events)
        self.by_tenant.clear()
