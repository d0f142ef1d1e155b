"""The calendar's view of other services: campaigns' scheduled sends (crm.campaigns) and TeeTime competitions
(teetime.competition.published), kept as calendar items."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import Clock
from fairway_events import Delivery, Dispatch, Envelope
from fairway_social.content_calendar.repository import CalendarRepository

TOPICS = ["crm.campaigns", "teetime.events"]
CAMPAIGN_STATUS = {"campaign.started": "SENDING", "campaign.paused": "PAUSED", "campaign.cancelled": "CANCELLED",
                   "campaign.completed": "SENT"}
HANDLED = {"campaign.scheduled", "teetime.competition.published", *CAMPAIGN_STATUS}


class CalendarFeed:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.dispatch = Dispatch()
        self.dispatch.on("campaign.scheduled")(self.campaign_scheduled)
        self.dispatch.on(*CAMPAIGN_STATUS)(self.campaign_moved)
        self.dispatch.on("teetime.competition.published")(self.competition)

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        await self.dispatch(session, deliveries)

    async def campaign_scheduled(self, session: AsyncSession, env: Envelope) -> None:
        p = env.payload
        await CalendarRepository(session, env.tenant_id).upsert(
            "CAMPAIGN_SEND", p.campaignId, title=p.name, channel=",".join(p.channels), status="SCHEDULED",  # type: ignore[attr-defined]
            starts_at=p.startsAt, now=self.clock.now(),  # type: ignore[attr-defined]
            details={"scheduleKind": p.scheduleKind, "abTest": p.abTest,  # type: ignore[attr-defined]
                     "segmentId": p.targetSegmentId})  # type: ignore[attr-defined]

    async def campaign_moved(self, session: AsyncSession, env: Envelope) -> None:
        await CalendarRepository(session, env.tenant_id).set_status(
            "CAMPAIGN_SEND", env.payload.campaignId, CAMPAIGN_STATUS[env.event_type], self.clock.now())  # type: ignore[attr-defined]

    async def competition(self, session: AsyncSession, env: Envelope) -> None:
        c = env.payload.payload  # type: ignore[attr-defined]
        await CalendarRepository(session, env.tenant_id).upsert(
            "COMPETITION", c.competitionId, title=c.name, channel="TEETIME", status="PUBLISHED", starts_at=c.startsAt,
            now=self.clock.now(), details={"entryDeadline": c.entryDeadline.isoformat() if c.entryDeadline else None,
                                           "format": c.format, "description": c.description})
