"""Factories and a driver for dispatch tests: real identity/segmentation/scoring events through the audience handler,
a DispatchService on a manual clock, and readers of the ledger, the outbox and the job queue."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_campaigns.audience.handlers import AudienceHandler
from fairway_campaigns.dispatch.handlers import DispatchRequestsHandler
from fairway_campaigns.dispatch.policy import DispatchSettings
from fairway_campaigns.dispatch.service import DispatchService, Submitted
from fairway_chassis import ManualClock
from fairway_events import Delivery, registry
from fairway_events.contracts.dispatch import (
    DispatchContent,
    DispatchRequested,
    DispatchSource,
    SendWindow,
    dispatch_request_id,
)
from fairway_events.contracts.identity import (
    Consent,
    Identities,
    ProfileCreated,
    ProfileSnapshot,
    ProfileUpdated,
)

NEWSLETTER = DispatchContent(subject="Autumn at Stonehaven", body="The course is open for winter greens.")
NO_RULES = DispatchSettings(quietHours={}, caps={}, controlGroupShare=0)


def snapshot(pid: str, *, email: bool = True, phone: bool = True, email_opt: bool | None = True,
             sms_opt: bool | None = True, ai: bool | None = None, status: str = "ACTIVE") -> ProfileCreated:
    return ProfileCreated(profile=ProfileSnapshot(
        profileId=pid, status=status,  # type: ignore[arg-type]
        identities=Identities(email=[f"{pid}@stonehavengolf.co.uk"] if email else [],
                              phoneNumber=["+447700900" + pid[-3:].rjust(3, "0")] if phone else []),
        attributes={"firstName": "Ailsa"},  # type: ignore[arg-type]
        consent=Consent(emailOptIn=email_opt, smsOptIn=sms_opt, aiMarketingConsent=ai)))


def zone(pid: str, tz: str) -> ProfileUpdated:
    return ProfileUpdated(profileId=pid, changes={"timeZone": tz})


def request(pid: str, *, channel: str = "EMAIL", kind: str = "CAMPAIGN", source: str = "camp-autumn",
            run: str | None = None, step: str | None = None, not_before: datetime | None = None,
            window: tuple[datetime, datetime] | None = None, transactional: bool = False,
            content: DispatchContent = NEWSLETTER) -> DispatchRequested:
    return DispatchRequested(
        requestId=dispatch_request_id(kind, source, run, step, pid, channel), profileId=pid,
        channel=channel,  # type: ignore[arg-type]
        source=DispatchSource(kind=kind, id=source, runId=run, stepId=step),  # type: ignore[arg-type]
        content=content, transactional=transactional, notBefore=not_before,
        window=SendWindow(start=window[0], end=window[1]) if window else None)


@dataclass
class Dispatch:
    """One test's service database, a dispatch service and its clock."""

    sessions: async_sessionmaker[AsyncSession]
    service: DispatchService
    clock: ManualClock

    async def events(self, tenant: str, *payloads: Any, source: str = "identity") -> None:
        deliveries = [Delivery(registry.envelope(p, tenant_id=tenant, aggregate_id=getattr(p, "profileId", tenant),
                                                 source=source), {}) for p in payloads]
        async with self.sessions() as session:
            await AudienceHandler(self.clock.now)(session, deliveries)
            await session.commit()

    async def submit(self, tenant: str, *requests: DispatchRequested) -> list[Submitted]:
        async with self.sessions() as session:
            out = await self.service.submit_many(session, tenant, requests, self.clock.now())
            await session.commit()
        return out

    async def via_topic(self, tenant: str, *requests: DispatchRequested) -> None:
        """As journeys do: dispatch.requested events, through the requests consumer's handler."""
        deliveries = [Delivery(registry.envelope(r, tenant_id=tenant, aggregate_id=r.profileId, source="journeys"),
                               {}) for r in requests]
        async with self.sessions() as session:
            await DispatchRequestsHandler(self.service, self.clock)(session, deliveries)
            await session.commit()

    async def release(self, tenant: str) -> int:
        async with self.sessions() as session:
            n = await self.service.release_due(session, tenant, self.clock.now())
            await session.commit()
        return n

    async def configure(self, tenant: str, settings: DispatchSettings) -> None:
        async with self.sessions() as session:
            await self.service.save_settings(session, tenant, settings, self.clock.now(), "tester")
            await session.commit()

    async def outbox(self, event_type: str, tenant: str | None = None) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = await session.execute(text(
                "SELECT key, body FROM event_outbox WHERE event_type = :e AND (CAST(:t AS text) IS NULL OR tenant_id = :t) "
                "ORDER BY id"), {"e": event_type, "t": tenant})
            out = []
            for key, body in rows.all():
                doc = orjson.loads(body)
                out.append({"key": key, **doc["payload"]})
            return out

    async def ledger(self, tenant: str) -> dict[str, tuple[str, str | None]]:
        async with self.sessions() as session:
            rows = await session.execute(text(
                "SELECT request_id, status, reason FROM dispatch_ledger WHERE tenant_id = :t"), {"t": tenant})
            return {r[0]: (r[1], r[2]) for r in rows.all()}

    async def jobs(self) -> list[tuple[str, datetime, dict[str, Any]]]:
        async with self.sessions() as session:
            rows = await session.execute(text(
                "SELECT task_name, scheduled_at, args FROM procrastinate_jobs ORDER BY scheduled_at"))
            return [(r[0], r[1], r[2]) for r in rows.all()]
