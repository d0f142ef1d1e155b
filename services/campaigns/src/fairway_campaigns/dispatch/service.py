"""Dispatch's entry points: `submit_many` (campaigns in process, journeys through crm.dispatch.requests),
`release_due` (the held messages whose time has come), `cancel_source`, and the tenant's settings.

Every call runs in the caller's transaction: the ledger rows, the send requests in the outbox, the outcome events
and the release jobs commit together or not at all, and a request id already in the ledger is never sent again.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.audience.repository import AudienceRepository, SendTimeProfile, audience_query
from fairway_campaigns.dispatch import policy
from fairway_campaigns.dispatch.policy import DispatchSettings
from fairway_campaigns.dispatch.repository import INPUT_COLUMNS, Decision, DispatchRepository, OutcomeCount
from fairway_campaigns.jobs import registry
from fairway_chassis import Unprocessable
from fairway_events.contracts.dispatch import DispatchContent, DispatchRequested

RELEASE_TASK = "dispatch.release"
RELEASE_BATCH = 5000  # held messages decided per transaction when their time comes
NOTIFY_KINDS = {"JOURNEY", "PROMOTION", "INTERVENTION"}  # submitters that hear back through dispatch.outcome


@dataclass(frozen=True, slots=True)
class Submitted:
    """The recorded outcome of one request (the one recorded first, for a request id seen before)."""

    request_id: str
    outcome: str
    reason: str | None


class DispatchService:
    """Stateless: one per process, shared by the fan-out, the requests consumer and the release job."""

    def __init__(self, defaults: DispatchSettings | None = None) -> None:
        self.defaults = defaults or DispatchSettings()

    # -- what campaigns read -----------------------------------------------------------------------------------

    def audience(self, tenant_id: str, segment_id: str, exclusions: Sequence[str]) -> Select:
        """A SELECT of profile ids (column `profile_id`): the segment's members in no exclusion segment."""
        return audience_query(tenant_id, segment_id, exclusions)

    async def time_zones(self, session: AsyncSession, tenant_id: str, profile_ids: Sequence[str]) -> dict[str, str]:
        s = await self.settings(session, tenant_id)
        return await AudienceRepository(session, tenant_id).time_zones(profile_ids, s.defaultTimeZone)

    async def outcome_counts(self, session: AsyncSession, tenant_id: str, kind: str, source_id: str
                             ) -> list[OutcomeCount]:
        return await DispatchRepository(session, tenant_id).outcome_counts(kind, source_id)

    # -- settings ------------------------------------------------------------------------------------------------

    async def settings(self, session: AsyncSession, tenant_id: str) -> DispatchSettings:
        return await DispatchRepository(session, tenant_id).settings() or self.defaults

    async def save_settings(self, session: AsyncSession, tenant_id: str, settings: DispatchSettings, now: datetime,
                            by: str) -> DispatchSettings:
        await DispatchRepository(session, tenant_id).save_settings(settings, now, by)
        return settings

    # -- the door to Messaging ---------------------------------------------------------------------------------

    async def submit_many(self, session: AsyncSession, tenant_id: str, requests: Sequence[DispatchRequested],
                          now: datetime) -> list[Submitted]:
        """Apply the policy to each request and record it; send what may go now, hold what must wait. One result
        per request, in order; a request id already in the ledger keeps its recorded outcome and sends nothing."""
        if not requests:
            return []
        repo = DispatchRepository(session, tenant_id)
        await repo.lock()
        s = await repo.settings() or self.defaults
        contents = _Contents(tenant_id)
        planned = [r for r in requests if r.window is not None or (r.notBefore is not None and r.notBefore > now)]
        plans = await self._plans(session, tenant_id, s, planned, now) if planned else {}
        known = await repo.decisions([r.requestId for r in requests])
        fresh = list({r.requestId: r for r in requests if r.requestId not in known}.values())
        columns: dict[str, list[Any]] = {c: [] for c in INPUT_COLUMNS}
        for r in fresh:
            if not (r.content.body or r.content.templateId):
                raise Unprocessable("a message needs a body or a Messaging template", field="content")
            due = r.notBefore or now
            if r.window is not None and r.notBefore is None:
                due = r.window.end if r.window.end < now else now
            at, why = plans.get(r.requestId, (None, None))
            src = r.source
            for name, value in (
                ("request_id", r.requestId), ("profile_id", r.profileId), ("channel", r.channel),
                ("source_kind", src.kind), ("source_id", src.id), ("run_id", src.runId), ("step_id", src.stepId),
                ("source_version", src.version), ("content_id", contents.id_of(r.content)),
                ("transactional", r.transactional), ("ai", r.content.aiPersonalised),
                ("notify", src.kind in NOTIFY_KINDS), ("due_at", due), ("planned_at", at), ("hold_reason", why),
            ):
                columns[name].append(value)
        if fresh:
            await repo.save_contents(contents.new)
            batch = str(uuid.uuid4())
            zones = await AudienceRepository(session, tenant_id).zones_of(columns["profile_id"])
            timing = self._timing(s, now, zones)
            for d in await repo.submit(columns, batch, s, now, timing):
                known[d.request_id] = d
            await self._after_decisions(repo, batch, now)
        if len(known) < len(requests):  # recorded meanwhile by a concurrent transaction
            known.update(await repo.decisions([r.requestId for r in requests if r.requestId not in known]))
        return [_result(known.get(r.requestId), r.requestId) for r in requests]

    async def release_due(self, session: AsyncSession, tenant_id: str, now: datetime,
                          limit: int = RELEASE_BATCH) -> int:
        """Decide up to `limit` held messages whose time has come (the policy again, as things are now)."""
        repo = DispatchRepository(session, tenant_id)
        await repo.lock()
        s = await repo.settings() or self.defaults
        batch = str(uuid.uuid4())
        zones = await AudienceRepository(session, tenant_id).zones_of_due(now)
        n = await repo.release(batch, s, now, self._timing(s, now, zones), limit)
        if n:
            await self._after_decisions(repo, batch, now)
        return n

    async def cancel_source(self, session: AsyncSession, tenant_id: str, kind: str, source_id: str,
                            now: datetime) -> int:
        """Withdraw what dispatch still holds for a campaign or journey (what already went cannot be)."""
        repo = DispatchRepository(session, tenant_id)
        await repo.lock()
        batch = str(uuid.uuid4())
        n = await repo.cancel(kind, source_id, batch, now)
        if n:
            await repo.write_outcomes(batch, now)
        return n

    # -- internals -----------------------------------------------------------------------------------------------

    async def _after_decisions(self, repo: DispatchRepository, batch: str, now: datetime) -> None:
        await repo.write_send_requests(batch, now)
        await repo.write_outcomes(batch, now)
        for at in await repo.held_times(batch):
            # One job per tenant and release time; it releases everything due by then. In this transaction, so a
            # held message always has its job.
            await registry.defer_in(repo.session, RELEASE_TASK, tenant_id=repo.tenant_id, schedule_at=at,
                                    queueing_lock=f"{RELEASE_TASK}:{repo.tenant_id}:{at.isoformat()}",
                                    at=at.isoformat())

    @staticmethod
    def _timing(s: DispatchSettings, now: datetime, zones_found: Sequence[str | None]) -> list[dict[str, Any]]:
        """For each time zone of the people concerned and each channel: until when quiet hours hold now, and the
        local day and week that frequency caps count in."""
        zones = {z or s.defaultTimeZone for z in zones_found}
        zones.add(s.defaultTimeZone)
        out = []
        for zone in sorted(z for z in zones if policy.valid_zone(z)):
            today = now.astimezone(ZoneInfo(zone)).date()
            week_start = today - timedelta(days=today.weekday())  # ISO weeks, as date_trunc('week')
            for channel in policy.CHANNELS:
                until = policy.quiet_release(now, zone, s.quiet(channel))
                out.append({"tz": zone, "channel": channel, "hold_until": until.isoformat() if until else None,
                            "today": today.isoformat(), "week_start": week_start.isoformat()})
        return out

    async def _plans(self, session: AsyncSession, tenant_id: str, s: DispatchSettings,
                     requests: Sequence[DispatchRequested], now: datetime) -> dict[str, tuple[datetime, str]]:
        """When each request with a time of its own should go: not before its time, at its recipient's best hour
        within its window, and never in quiet hours (transactional ones ignore quiet hours)."""
        audience = AudienceRepository(session, tenant_id)
        ids = sorted({r.profileId for r in requests})
        zones = await audience.time_zones(ids, s.defaultTimeZone)
        windowed = [r.profileId for r in requests if r.window is not None]
        profiles = await audience.send_time_profiles(windowed) if windowed else {}
        prior: SendTimeProfile | None = None
        if any(p.confidence < policy.MIN_STO_CONFIDENCE for p in profiles.values()) or len(profiles) < len(windowed):
            prior = await audience.pooled_send_time(policy.MIN_STO_CONFIDENCE)
        plans: dict[str, tuple[datetime, str]] = {}
        for r in requests:
            zone = zones.get(r.profileId) or s.defaultTimeZone
            if not policy.valid_zone(zone):
                zone = s.defaultTimeZone
            quiet = None if r.transactional else s.quiet(r.channel)
            start = max(now, r.notBefore or now)
            if r.window is not None and r.window.end > start:
                start = max(start, r.window.start)
                own = profiles.get(r.profileId)
                chosen = own if own is not None and own.confidence >= policy.MIN_STO_CONFIDENCE else prior
                hourly, hours_zone = (chosen.hourly, chosen.time_zone) if chosen else (policy.default_hourly(), zone)
                at = policy.best_time(start, r.window.end, zone, hourly, hours_zone, quiet)
                plans[r.requestId] = (at, "best time" if chosen is own and own is not None else "best time (prior)")
            elif start > now:
                at = policy.allowed_at(start, zone, quiet)
                plans[r.requestId] = (at, "scheduled" if at == start else "quiet hours")
        return plans


class _Contents:
    """Content ids: a hash of the tenant and the content, so a campaign's recipients share one stored row."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.new: dict[str, str] = {}
        self._by_object: dict[int, str] = {}
        self._keep: list[DispatchContent] = []  # keeps ids of `_by_object` from being reused

    def id_of(self, content: DispatchContent) -> str:
        known = self._by_object.get(id(content))
        if known is not None:
            return known
        doc = content.model_dump_json(exclude_defaults=True)
        cid = hashlib.sha256(f"{self.tenant_id}\x1f{doc}".encode()).hexdigest()[:40]
        self.new.setdefault(cid, doc)
        self._by_object[id(content)] = cid
        self._keep.append(content)
        return cid


def _result(d: Decision | None, request_id: str) -> Submitted:
    if d is None:  # the id is in another tenant's ledger: never sent for this one
        return Submitted(request_id, "SUPPRESSED", "request id already used by another tenant")
    return Submitted(d.request_id, d.outcome, d.reason)
