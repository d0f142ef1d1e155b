"""The engine: walks runs through their version's steps until each waits or ends. Collects every effect in
`Writes` (step history, timers, waits, sends, outbox events), which the caller flushes in its own transaction,
so a step's effects and the events it publishes commit together, once.

Callers hold the run rows locked (FOR UPDATE) and have checked each run's `seq` against what woke it, so a run is
only ever moved by one transaction at a time and a stale timer or a duplicate event moves nothing.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fairway_events.contracts.dispatch import (
    DispatchContent,
    DispatchRequested,
    DispatchSource,
    dispatch_request_id,
)
from fairway_events.contracts.identity_commands import ProfileUpdateRequested
from fairway_events.contracts.journeys import (
    RunCompleted,
    RunConverted,
    RunExited,
    RunStarted,
    RunStepCompleted,
)
from fairway_journeys.definitions.model import (
    ConditionStep,
    Definition,
    EndStep,
    SendStep,
    SplitStep,
    UpdateStep,
    WaitStep,
)
from fairway_journeys.readmodel.fields import CATALOGUE
from fairway_journeys.readmodel.member import Member
from fairway_journeys.runs import timing
from fairway_journeys.runs.model import ACTIVE, COMPLETED, CONVERTED, EXITED, Run
from fairway_journeys.runs.writes import Writes
from fairway_schemas.criteria import Group
from fairway_schemas.criteria_eval import Predicate

DISPATCH_WAIT = "dispatch.outcome"
DISPATCH_TIMEOUT = timedelta(days=2)  # dispatch always answers; if it never does, the run goes on as sent
MAX_STEPS_PER_WAKE = 100  # validated definitions cannot loop without a WAIT; this only guards the impossible
_UPDATE_NS = uuid.UUID("0b6c3a55-2f0e-5a8e-9d5e-6a3f1c2b7d41")


def unit_interval(*parts: str) -> float:
    """A number in [0, 1) fixed by `parts`: a SPLIT's draw is the same however often the step is retried."""
    h = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


@dataclass
class Context:
    """What the engine needs besides the runs: definitions, members, A/B winners and the time."""

    now: datetime
    definitions: dict[tuple[str, int], Definition]
    members: dict[tuple[str, str], Member]
    winners: dict[tuple[str, str, int, str], str] = field(default_factory=dict)  # (tenant, journey, version, step)
    archived: set[tuple[str, str]] = field(default_factory=set)  # (tenant, journey)
    _predicates: dict[tuple[str, int, str], Predicate] = field(default_factory=dict)

    def predicate(self, run: Run, step: ConditionStep) -> Predicate:
        key = (run.journey_id, run.version, step.id)
        if key not in self._predicates:
            self._predicates[key] = Predicate(Group.model_validate(step.criteria), CATALOGUE)
        return self._predicates[key]


class Engine:
    def __init__(self, ctx: Context, writes: Writes) -> None:
        self.ctx = ctx
        self.w = writes

    @property
    def now(self) -> datetime:
        return self.ctx.now

    def definition(self, run: Run) -> Definition:
        return self.ctx.definitions[(run.journey_id, run.version)]

    def member(self, run: Run) -> Member:
        return self.ctx.members.get((run.tenant_id, run.profile_id)) or Member.unknown(run.profile_id)

    def tz(self, run: Run) -> ZoneInfo:
        return ZoneInfo(self.member(run).time_zone or self.definition(run).timezone)

    # -- entry points ----------------------------------------------------------------------------------
    def start(self, run: Run, trigger_event_id: str | None) -> None:
        """A freshly inserted run: announce it and walk it from the first step."""
        self.w.event(run, RunStarted(runId=run.id, journeyId=run.journey_id, version=run.version,
                                     profileId=run.profile_id, at=self.now, entryKey=run.entry_key,
                                     trigger=run.trigger, triggerEventId=trigger_event_id), self.now)
        self._enter(run, self.definition(run).first)
        self._walk(run)

    def resume(self, run: Run, outcome: str, detail: dict[str, Any] | None = None) -> None:
        """A waiting run's wait is over (`outcome`: "next", "event", "timeout", "sent", "not_sent")."""
        if not run.active:
            return
        if (run.tenant_id, run.journey_id) in self.ctx.archived:
            self.end(run, EXITED, "ARCHIVED")
            return
        self.w.clear(run)
        step = self.definition(run).step(run.step_id or "")
        if step is None:
            self.end(run, EXITED, "STEP_MISSING")
            return
        target = self._branch(step, outcome)
        self._complete(run, step, outcome, detail or {})
        self._go(run, target)

    def end(self, run: Run, status: str, reason: str | None, *, goal_event_id: str | None = None) -> None:
        """Convert, exit or complete a run wherever it is; an ended run executes nothing more."""
        if not run.active:
            return
        self.w.clear(run)
        run.status, run.ended_at, run.end_reason, run.waiting = status, self.now, reason, None
        if run.step_id is not None and status != COMPLETED:
            self.w.complete_step(run, self.now, status.lower())
        self.w.changed(run)
        base = {"runId": run.id, "journeyId": run.journey_id, "version": run.version, "profileId": run.profile_id,
                "at": self.now}
        if status == CONVERTED:
            self.w.event(run, RunConverted(**base, stepId=run.step_id, goalEventId=goal_event_id), self.now)
        elif status == EXITED:
            self.w.event(run, RunExited(**base, stepId=run.step_id, reason=reason), self.now)  # type: ignore[arg-type]
        else:
            self.w.event(run, RunCompleted(**base, stepId=run.step_id or ""), self.now)

    # -- walking ---------------------------------------------------------------------------------------
    def _enter(self, run: Run, step_id: str) -> None:
        step = self.definition(run).step(step_id)
        run.seq += 1
        run.step_id, run.step_entered_at, run.waiting = step_id, self.now, None
        self.w.enter_step(run, step.type if step else "END", self.now)
        self.w.changed(run)

    def _complete(self, run: Run, step: Any, outcome: str, detail: dict[str, Any]) -> None:
        self.w.complete_step(run, self.now, outcome)
        self.w.event(run, RunStepCompleted(runId=run.id, journeyId=run.journey_id, version=run.version,
                                           profileId=run.profile_id, at=self.now, stepId=step.id,
                                           stepType=step.type, outcome=outcome, detail=detail), self.now)

    def _go(self, run: Run, target: str | None) -> None:
        if target is None:  # cannot happen with a validated definition
            self.end(run, EXITED, "STEP_MISSING")
            return
        self._enter(run, target)
        self._walk(run)

    def _walk(self, run: Run) -> None:
        d = self.definition(run)
        for _ in range(MAX_STEPS_PER_WAKE):
            if not run.active or run.waiting:
                return
            step = d.step(run.step_id or "")
            if step is None:
                self.end(run, EXITED, "STEP_MISSING")
                return
            outcome, detail = self._execute(run, step)
            if outcome is None:  # waiting
                return
            if isinstance(step, EndStep):
                self.w.complete_step(run, self.now, "end")
                self.end(run, COMPLETED, None)
                return
            target = self._branch(step, outcome)
            self._complete(run, step, outcome, detail)
            if target is None:
                self.end(run, EXITED, "STEP_MISSING")
                return
            self._enter(run, target)

    def _branch(self, step: Any, outcome: str) -> str | None:
        if isinstance(step, SendStep):
            return step.notSent if outcome == "not_sent" and step.notSent else step.next
        if isinstance(step, WaitStep):
            return step.onTimeout if outcome == "timeout" and step.onTimeout else step.next
        if isinstance(step, ConditionStep):
            return step.yes if outcome == "yes" else step.no
        if isinstance(step, SplitStep):
            return next((b.next for b in step.branches if b.name == outcome), None)
        if isinstance(step, UpdateStep):
            return step.next
        return None

    def _execute(self, run: Run, step: Any) -> tuple[str | None, dict[str, Any]]:
        """Do the step; (outcome, detail), or (None, {}) when the run now waits."""
        if isinstance(step, SendStep):
            return self._send(run, step)
        if isinstance(step, WaitStep):
            return self._wait(run, step)
        if isinstance(step, ConditionStep):
            member = self.member(run)
            ok = member.known and self.ctx.predicate(run, step)(member.profile(), self.now)
            return ("yes" if ok else "no"), {}
        if isinstance(step, UpdateStep):
            request_id = str(uuid.uuid5(_UPDATE_NS, f"{run.id}\x1f{step.id}\x1f{run.seq}"))
            self.w.event(run, ProfileUpdateRequested(
                requestId=request_id, profileId=run.profile_id, sourceKind="JOURNEY", sourceId=run.journey_id,
                addTags=step.addTags, removeTags=step.removeTags, attributes=step.attributes),
                self.now, aggregate_id=run.profile_id)
            return "next", {"requestId": request_id}
        if isinstance(step, SplitStep):
            return self._split(run, step), {}
        return "end", {}

    def _send(self, run: Run, step: SendStep) -> tuple[str | None, dict[str, Any]]:
        request_id = dispatch_request_id("JOURNEY", run.journey_id, run.id, f"{step.id}#{run.seq}", run.profile_id,
                                         step.channel)
        variant = run.context.get("variant")
        content = DispatchContent(
            templateId=step.templateId, subject=step.content.subject if step.content else None,
            body=step.content.body if step.content else None,
            templateData={"journeyId": run.journey_id, **({"variant": variant} if variant else {})})
        self.w.event(run, DispatchRequested(
            requestId=request_id, profileId=run.profile_id, channel=step.channel,
            source=DispatchSource(kind="JOURNEY", id=run.journey_id, runId=run.id, stepId=step.id,
                                  version=run.version),
            content=content), self.now, aggregate_id=run.profile_id)
        self.w.of(run.tenant_id).sends.append({
            "request_id": request_id, "tenant_id": run.tenant_id, "run_id": run.id, "journey_id": run.journey_id,
            "version": run.version, "step_id": step.id, "variant": variant, "profile_id": run.profile_id,
            "channel": step.channel, "requested_at": self.now})
        run.context = {**run.context, "sent": {**run.context.get("sent", {}), step.id: request_id}}
        if step.notSent:
            # The branch depends on dispatch's answer: wait for it (with a generous timeout).
            run.waiting = DISPATCH_WAIT
            self.w.wait(run, DISPATCH_WAIT, request_id)
            self.w.timer(run, self.now + DISPATCH_TIMEOUT)
            self.w.changed(run)
            return None, {}
        return "sent", {"requestId": request_id}

    def _wait(self, run: Run, step: WaitStep) -> tuple[str | None, dict[str, Any]]:
        tz = self.tz(run)
        due: datetime | None
        if step.kind == "duration":
            due = timing.after_duration(self.now, step.duration or "0 minutes", tz)
        elif step.kind == "time_of_day":
            due = timing.next_time_of_day(self.now, step.at or "09:00", step.weekdays, tz)
        elif step.kind == "date_attribute":
            day = timing.attribute_day(step.attribute or "", self.member(run).dates,
                                       self.now.astimezone(tz).date())
            if day is None:
                return "no_date", {}  # nothing to wait for: the member has no such date
            due = timing.at_date(day, step.offset, step.at, tz)
            if due <= self.now:
                return "past", {}
        else:
            assert step.eventType is not None and step.timeout is not None
            key = run.context.get("sent", {}).get(step.ofStep) if step.ofStep else run.profile_id
            if key is None:  # the message was never sent on this path: nothing can arrive
                return "timeout", {"reason": "no message"}
            self.w.wait(run, step.eventType, key)
            due = timing.after_duration(self.now, step.timeout, tz)
        run.waiting = "event" if step.kind == "event" else "timer"
        self.w.timer(run, due)
        self.w.changed(run)
        return None, {}

    def _split(self, run: Run, step: SplitStep) -> str:
        winner = self.ctx.winners.get((run.tenant_id, run.journey_id, run.version, step.id))
        if winner is not None:
            choice = winner
        else:
            total = sum(b.weight for b in step.branches)
            x = unit_interval(run.id, step.id, str(run.seq)) * total
            choice = step.branches[-1].name
            for b in step.branches:
                if x < b.weight:
                    choice = b.name
                    break
                x -= b.weight
        run.context = {**run.context, "variant": f"{step.id}:{choice}"}
        return choice


__all__ = ["ACTIVE", "Context", "Engine"]
