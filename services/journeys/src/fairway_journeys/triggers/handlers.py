"""The one consumer of the journeys service: every event it hears, in order, in one transaction per batch.

Per tenant, a batch (1) updates the read model, (2) converts runs whose goal arrived and exits runs whose
member unsubscribed, left the entry segment, was erased or merged away, (3) moves runs that waited for one of
these events (a dispatch outcome, an open of their message, a booking), and (4) enrols members the triggers of
active journeys select. Goals come before waits, so a booking that is both the goal and the awaited event
converts the run.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import Clock
from fairway_events import Delivery, Envelope
from fairway_events.consumer import BatchHandler
from fairway_events.contracts.dispatch import DispatchOutcomeRecorded
from fairway_events.contracts.identity import ProfileCreated, ProfileErased, ProfileMerged
from fairway_events.contracts.state import ProfileState, StateTombstone
from fairway_events.contracts.upstream import UpstreamEvent
from fairway_journeys.definitions.events import REACTIVE
from fairway_journeys.definitions.model import Definition, EventTrigger
from fairway_journeys.definitions.repository import JourneyRepository
from fairway_journeys.readmodel import service as readmodel
from fairway_journeys.readmodel.repository import MemberRepository
from fairway_journeys.runs import service as runs
from fairway_journeys.runs.deps import RunDeps
from fairway_journeys.runs.engine import DISPATCH_WAIT
from fairway_journeys.runs.model import CONVERTED, EXITED, Run
from fairway_journeys.runs.repository import RunRepository
from fairway_journeys.triggers import matching
from fairway_schemas.identity_keys import ORDER, canonical

log = structlog.get_logger("fairway.journeys.events")

TOPICS = ["scl.events", "teetime.events", "messaging.events", "crm.identity", "crm.timeline", "crm.scoring",
          "crm.segmentation", "crm.dispatch.outcomes"]
HANDLED = readmodel.HANDLED | set(REACTIVE) | {"dispatch.outcome"}
SENT_OUTCOMES = {"REQUESTED", "HELD"}
ENGAGEMENT = {"messaging.email.opened": "opened_at", "messaging.push.opened": "opened_at",
              "messaging.email.clicked": "clicked_at"}


@dataclass
class Item:
    """One event seen as journeys need it: who it is about and its payload as plain JSON."""

    env: Envelope
    payload: dict[str, Any]
    profile_id: str | None


def _payload(env: Envelope) -> dict[str, Any]:
    p = env.payload
    inner = p.payload if isinstance(p, UpstreamEvent) or hasattr(p, "identity") else p  # upstream: its payload
    return inner.model_dump(mode="json")


def _profile_of(env: Envelope) -> str | None:
    p = env.payload
    if isinstance(p, ProfileCreated):
        return p.profile.profileId
    if isinstance(p, ProfileMerged):
        return p.winnerId
    return getattr(p, "profileId", None)


class TenantBatch:
    def __init__(self, session: AsyncSession, deps: RunDeps, tenant_id: str, now: datetime) -> None:
        self.session = session
        self.deps = deps
        self.tenant_id = tenant_id
        self.now = now
        self.members = MemberRepository(session, tenant_id)
        self.runs = RunRepository(session, tenant_id)

    async def run(self, envelopes: list[Envelope]) -> None:
        previous = await self._previous_scores(envelopes)
        ended = await self._identity_exits(envelopes)
        for env in envelopes:
            if env.event_type in readmodel.HANDLED:
                await readmodel.apply(self.members, env, self.now)
        items = await self._resolve(envelopes)
        await self._goals_and_exits(items, ended)
        await self._waits(items)
        await self._enrol(items, previous)

    async def run_state(self, envelopes: list[Envelope]) -> None:
        """Snapshots and tombstones (the state consumer): the read model, and the runs of people erased or merged
        away end. A snapshot is no event of the member's: it triggers, converts and moves nothing."""
        await self._identity_exits(envelopes)
        for env in envelopes:
            await readmodel.apply(self.members, env, self.now)

    async def _previous_scores(self, envelopes: list[Envelope]) -> dict[str, dict[str, Any]]:
        ids = [e.payload.profileId for e in envelopes if e.event_type == "score.updated"]
        return {pid: m.fields for pid, m in (await self.members.load(ids)).items()}

    async def _identity_exits(self, envelopes: list[Envelope]) -> set[str]:
        """Runs of people erased or merged away end before anything else happens to them."""
        gone: dict[str, str] = {}
        for e in envelopes:
            if isinstance(e.payload, ProfileErased):
                gone[e.payload.profileId] = "ERASED"
            elif isinstance(e.payload, ProfileMerged) and e.payload.loserId != e.payload.winnerId:
                gone[e.payload.loserId] = "MERGED"
            elif isinstance(e.payload, StateTombstone) and e.payload.topic == "crm.identity.state":
                gone[e.payload.key] = "ERASED"
            elif isinstance(e.payload, ProfileState) and e.payload.mergedInto is not None:
                gone[e.payload.profile.profileId] = "MERGED"
        if not gone:
            return set()
        active = await self.runs.active_of_profiles(gone)
        for reason in ("ERASED", "MERGED"):
            mine = [r for r in active if gone[r.profile_id] == reason]
            await runs.end_runs(self.session, self.deps, self.tenant_id, mine, EXITED, reason, self.now)
        return {r.id for r in active}

    async def _resolve(self, envelopes: list[Envelope]) -> list[Item]:
        """Upstream events name people by identity hints; the key map (from crm.identity) turns them into
        profile ids, trying keys in identity's priority order."""
        wanted: list[tuple[str, str]] = []
        hints: dict[str, list[tuple[str, str]]] = {}
        for e in envelopes:
            r = REACTIVE.get(e.event_type)
            if r is not None and r.addressing == "hints":
                h = e.payload.identity.model_dump()
                keys = [(t, c) for t in ORDER if (c := canonical(t, h.get(t))) is not None]
                hints[e.event_id] = keys
                wanted += keys
        known = await self.members.resolve(wanted)
        items = []
        for e in envelopes:
            if e.event_type not in REACTIVE and e.event_type != "dispatch.outcome":
                continue
            if e.event_id in hints:
                pid = next((known[k] for k in hints[e.event_id] if k in known), None)
            else:
                pid = _profile_of(e)
            items.append(Item(e, _payload(e), pid))
        return items

    async def _definitions(self, runs_: list[Run]) -> dict[str, Definition]:
        out = {}
        for r in runs_:
            d = await self.deps.versions.get(self.session, self.tenant_id, r.journey_id, r.version)
            if d is not None:
                out[r.id] = d
        return out

    async def _ending_types(self) -> set[str]:
        """Event types that can end a run of this tenant: goals and exits of any version runs may be on. Most
        events (a booking that is nobody's goal) then cost no look-up of runs at all."""
        out: set[str] = set()
        for journey_id, version in await JourneyRepository(self.session, self.tenant_id).all_versions():
            d = await self.deps.versions.get(self.session, self.tenant_id, journey_id, version)
            if d is None:
                continue
            if d.goal:
                out.add(d.goal.eventType)
            if d.exit.onUnsubscribe:
                out.add("messaging.unsubscribed")
            if d.exit.onSegmentExit:
                out.add("segment.member_exited")
        return out

    async def _goals_and_exits(self, items: list[Item], ended: set[str]) -> None:
        person = [i for i in items if i.profile_id and REACTIVE.get(i.env.event_type)]
        if person:
            ending = await self._ending_types()
            person = [i for i in person if i.env.event_type in ending]
        if not person:
            return
        active = [r for r in await self.runs.active_of_profiles({i.profile_id for i in person if i.profile_id})
                  if r.id not in ended]
        if not active:
            return
        defs = await self._definitions(active)
        by_profile: dict[str, list[Run]] = defaultdict(list)
        for r in active:
            by_profile[r.profile_id].append(r)
        done: set[str] = set()
        for i in person:
            for r in by_profile.get(i.profile_id or "", []):
                d = defs.get(r.id)
                if d is None or r.id in done:
                    continue
                t = i.env.event_type
                if d.goal and matching.reaches(d.goal, t, i.payload) and i.env.occurred_at >= r.started_at and (
                        d.goal.withinDays is None
                        or i.env.occurred_at <= r.started_at + timedelta(days=d.goal.withinDays)):
                    await runs.end_runs(self.session, self.deps, self.tenant_id, [r], CONVERTED, "GOAL",
                                        self.now, goal_event_id=i.env.event_id)
                    done.add(r.id)
                elif t == "messaging.unsubscribed" and d.exit.onUnsubscribe:
                    await runs.end_runs(self.session, self.deps, self.tenant_id, [r], EXITED, "UNSUBSCRIBED",
                                        self.now)
                    done.add(r.id)
                elif (t == "segment.member_exited" and d.exit.onSegmentExit
                      and i.payload.get("segmentId") == d.entry.segmentId):
                    await runs.end_runs(self.session, self.deps, self.tenant_id, [r], EXITED, "LEFT_SEGMENT",
                                        self.now)
                    done.add(r.id)

    async def _waits(self, items: list[Item]) -> None:
        outcomes: dict[str, dict[str, Any]] = {}
        by_type: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        engagement: dict[str, list[str]] = defaultdict(list)
        for i in items:
            p = i.env.payload
            if isinstance(p, DispatchOutcomeRecorded):
                sent = p.outcome in SENT_OUTCOMES
                outcomes[p.requestId] = {"outcome": "sent" if sent else "not_sent", "dispatch": p.outcome,
                                         **({"reason": p.reason} if p.reason else {})}
                continue
            t = i.env.event_type
            request_id = i.payload.get("sendRequestId")
            if REACTIVE[t].message and request_id:
                by_type[t][request_id] = {"eventId": i.env.event_id}
                if t in ENGAGEMENT:
                    engagement[ENGAGEMENT[t]].append(request_id)
            if i.profile_id:
                by_type[t].setdefault(i.profile_id, {"eventId": i.env.event_id})
        if outcomes:
            await self.runs.record_outcomes([(k, v["dispatch"], v.get("reason")) for k, v in outcomes.items()])
            await runs.resume_waiting(self.session, self.deps, self.tenant_id, DISPATCH_WAIT, outcomes, self.now)
        for column, ids in engagement.items():
            await self.runs.record_engagement(ids, column, self.now)
        for t, arrivals in by_type.items():
            await runs.resume_waiting(self.session, self.deps, self.tenant_id, t, arrivals, self.now,
                                      outcome="event")

    async def _enrol(self, items: list[Item], previous: dict[str, dict[str, Any]]) -> None:
        journeys = await JourneyRepository(self.session, self.tenant_id).active()
        triggers: list[tuple[str, int, Definition]] = []
        for j in journeys:
            if j.active_version is None:
                continue
            d = await self.deps.versions.get(self.session, self.tenant_id, j.id, j.active_version)
            if d is not None and isinstance(d.trigger, EventTrigger):
                triggers.append((j.id, j.active_version, d))
        if not triggers:
            return
        candidates: list[runs.Candidate] = []
        for i in items:
            t = i.env.event_type
            for journey_id, version, d in triggers:
                trig = d.trigger
                assert isinstance(trig, EventTrigger)
                if not matching.starts(trig, t, i.payload, previous.get(i.profile_id or "")):
                    continue
                key = matching.entry_key(trig, i.payload)
                if trig.key is not None and key is None:
                    continue  # keyed, but this event carries no key: cannot tell entries apart
                if REACTIVE[t].addressing == "broadcast":
                    audience = (await self.members.segment_audience(d.entry.segmentId) if d.entry.segmentId
                                else await self.members.eligible())
                    key = key or f"event:{i.env.event_id}"
                else:
                    if i.profile_id is None:
                        log.info("trigger event for a person identity has not announced yet; not enrolled",
                                 event_type=t, event_id=i.env.event_id)
                        continue
                    audience = [i.profile_id]
                candidates += [runs.Candidate(journey_id=journey_id, version=version, profile_id=pid,
                                              entry_key=key, trigger=t, trigger_event_id=i.env.event_id,
                                              context={"eventId": i.env.event_id})
                               for pid in audience]
        if candidates:
            await runs.enrol(self.session, self.deps, self.tenant_id, candidates, self.now)


def make_handler(clock: Clock, deps: RunDeps, *, state: bool = False) -> BatchHandler:
    """The events consumer's handler; with `state`, the state consumer's (read model and identity exits only)."""
    async def handle(session: AsyncSession, deliveries: list[Delivery]) -> None:
        by_tenant: dict[str, list[Envelope]] = defaultdict(list)
        for d in deliveries:
            by_tenant[d.envelope.tenant_id].append(d.envelope)
        now = clock.now()
        for tenant_id in sorted(by_tenant):
            batch = TenantBatch(session, deps, tenant_id, now)
            await (batch.run_state if state else batch.run)(by_tenant[tenant_id])

    return handle


