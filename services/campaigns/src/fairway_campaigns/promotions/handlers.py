"""What promotions hear: TeeTime's competition events (a published competition is promoted automatically when the
tenant wants it; entries, changes, full and cancelled steer its schedule) and the social service's outcomes of its
posts (published, failed, engagement) for its results."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.dispatcher import Dispatcher
from fairway_campaigns.promotions import service
from fairway_campaigns.promotions.repository import PromotionRepository
from fairway_campaigns.promotions.schemas import PromotionIn
from fairway_campaigns.results.service import keys_of
from fairway_campaigns.tasks import JobDeferrer
from fairway_chassis import Clock
from fairway_events import Delivery, Dispatch, Envelope

CONSUMER = "campaigns.promotions"
TOPICS = ["teetime.events", "crm.social"]
AUTO = "auto-promotion"


class PromotionEvents:
    def __init__(self, dispatch: Dispatcher, jobs: JobDeferrer, clock: Clock) -> None:
        self.dispatch = dispatch
        self.jobs = jobs
        self.clock = clock
        self.routes = Dispatch()
        on = self.routes.on
        on("teetime.competition.published")(self.published)
        on("teetime.competition.updated")(self.updated)
        on("teetime.competition.entry_created")(self.entry_created)
        on("teetime.competition.entry_cancelled")(self.entry_cancelled)
        on("teetime.competition.full")(self.full)
        on("teetime.competition.cancelled")(self.cancelled)
        on("social.post.published", "social.post.failed", "social.post.engagement_updated")(self.social)

    @property
    def types(self) -> set[str]:
        return self.routes.types

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        await self.routes(session, deliveries)

    async def published(self, session: AsyncSession, env: Envelope) -> None:
        c = env.payload.payload  # type: ignore[attr-defined]
        s = await service.settings(session, env.tenant_id)
        now = self.clock.now()
        if not s.autoPromote or c.startsAt <= now:
            return
        await service.create(session, self.jobs, env.tenant_id, PromotionIn(
            name=c.name[:200], startsAt=c.startsAt,
            entryDeadline=c.entryDeadline if c.entryDeadline and c.entryDeadline <= c.startsAt else None,
            description=(c.description or None) and c.description[:2000], format=c.format and c.format[:100],
            competitionId=c.competitionId), AUTO, now, automatic=True)

    async def updated(self, session: AsyncSession, env: Envelope) -> None:
        c = env.payload.payload  # type: ignore[attr-defined]
        await service.changed(session, self.jobs, env.tenant_id, c.competitionId, {
            "name": c.name[:200], "starts_at": c.startsAt, "entry_deadline": c.entryDeadline,
            "capacity": c.capacity, "description": c.description, "format": c.format and c.format[:100],
        }, self.clock.now())

    async def entry_created(self, session: AsyncSession, env: Envelope) -> None:
        e = env.payload.payload  # type: ignore[attr-defined]
        await service.entered(session, self.dispatch, env.tenant_id, e.competitionId, e.entryId,
                              keys_of(env.payload.identity), e.capacity, env.occurred_at,  # type: ignore[attr-defined]
                              self.clock.now())

    async def entry_cancelled(self, session: AsyncSession, env: Envelope) -> None:
        e = env.payload.payload  # type: ignore[attr-defined]
        await service.withdrew(session, env.tenant_id, e.competitionId, e.entryId, env.occurred_at)

    async def full(self, session: AsyncSession, env: Envelope) -> None:
        f = env.payload.payload  # type: ignore[attr-defined]
        await service.full(session, self.dispatch, env.tenant_id, f.competitionId, f.capacity, self.clock.now())

    async def cancelled(self, session: AsyncSession, env: Envelope) -> None:
        c = env.payload.payload  # type: ignore[attr-defined]
        await service.cancelled(session, self.dispatch, env.tenant_id, c.competitionId, self.clock.now())

    async def social(self, session: AsyncSession, env: Envelope) -> None:
        p = env.payload
        if not p.promotionId:  # type: ignore[attr-defined]
            return
        if env.event_type == "social.post.engagement_updated":
            values = {k: getattr(p, k) for k in ("likes", "comments", "shares", "impressions", "clicks")}
        elif env.event_type == "social.post.failed":
            values = {"status": "FAILED", "error": p.error}  # type: ignore[attr-defined]
        else:
            values = {"status": "PUBLISHED"}
        await PromotionRepository(session, env.tenant_id).record_post(
            p.promotionId, p.postId, p.connectionId, p.platform, values, env.occurred_at)  # type: ignore[attr-defined]
