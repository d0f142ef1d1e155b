"""All SQL on promotions. A repository is built for one tenant and scopes every statement by it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.promotions.models import entries, posts, promotion_settings, promotions, steps
from fairway_campaigns.promotions.plan import Planned
from fairway_campaigns.results.models import messages


@dataclass(frozen=True)
class Promotion:
    tenant_id: str
    id: str
    competition_id: str | None
    name: str
    description: str | None
    format: str | None
    starts_at: datetime
    entry_deadline: datetime | None
    capacity: int | None
    link: str | None
    channels: list[str]
    segment_id: str
    reminder_days: list[int]
    time_zone: str
    attribution_days: int
    status: str
    stop_reason: str | None
    automatic: bool
    content: dict[str, Any] | None
    content_source: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    approved_by: str | None
    approved_at: datetime | None


@dataclass(frozen=True)
class Step:
    step: str
    kind: str
    days_before: int | None
    due_at: datetime
    window_end: datetime | None
    status: str
    reason: str | None
    cursor: str | None
    recipients: int
    requested: int
    done_at: datetime | None


@dataclass(frozen=True)
class SocialTotals:
    published: int
    failed: int
    likes: int
    comments: int
    shares: int
    impressions: int
    clicks: int


@dataclass(frozen=True)
class MessageTotals:
    reach: int
    sends: list[tuple[str, str, int]]  # channel, outcome, count
    opened: int
    clicked: int


_STEP_COLUMNS = [steps.c[c] for c in ("step", "kind", "days_before", "due_at", "window_end", "status", "reason",
                                      "cursor", "recipients", "requested", "done_at")]


class PromotionRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    # -- settings -------------------------------------------------------------------------------------------
    async def settings(self) -> dict[str, Any] | None:
        return (await self.session.execute(select(promotion_settings.c.settings).where(
            promotion_settings.c.tenant_id == self.tenant_id))).scalar()

    async def save_settings(self, settings: dict[str, Any], now: datetime, by: str) -> None:
        stmt = insert(promotion_settings).values(tenant_id=self.tenant_id, settings=settings, updated_at=now,
                                                 updated_by=by)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id"], set_={"settings": settings, "updated_at": now, "updated_by": by}))

    # -- promotions -----------------------------------------------------------------------------------------
    async def add(self, values: dict[str, Any]) -> bool:
        """False when the competition has its promotion already (or the id exists): nothing is added."""
        result = await self.session.execute(
            insert(promotions).values(tenant_id=self.tenant_id, **values).on_conflict_do_nothing())
        return bool(result.rowcount)

    async def get(self, promotion_id: str, *, lock: bool = False) -> Promotion | None:
        """`lock`: FOR UPDATE, so the steps' batches and the changes TeeTime reports happen one after another."""
        q = select(promotions).where(promotions.c.tenant_id == self.tenant_id, promotions.c.id == promotion_id)
        if lock:
            q = q.with_for_update()
        row = (await self.session.execute(q)).first()
        return Promotion(**row._mapping) if row else None

    async def of_competition(self, competition_id: str, *, lock: bool = False) -> Promotion | None:
        q = select(promotions).where(promotions.c.tenant_id == self.tenant_id,
                                     promotions.c.competition_id == competition_id)
        if lock:
            q = q.with_for_update()
        row = (await self.session.execute(q)).first()
        return Promotion(**row._mapping) if row else None

    async def page(self, after: tuple[datetime, str] | None, limit: int) -> list[Promotion]:
        q = select(promotions).where(promotions.c.tenant_id == self.tenant_id)
        if after is not None:
            q = q.where(tuple_(promotions.c.created_at, promotions.c.id) < tuple_(*after))
        q = q.order_by(promotions.c.created_at.desc(), promotions.c.id.desc()).limit(limit)
        return [Promotion(**r._mapping) for r in (await self.session.execute(q)).all()]

    async def update(self, promotion_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(update(promotions).where(
            promotions.c.tenant_id == self.tenant_id, promotions.c.id == promotion_id).values(**values))

    # -- the schedule ---------------------------------------------------------------------------------------
    async def save_steps(self, promotion_id: str, planned: Sequence[Planned]) -> None:
        """Insert new steps; a step already there takes the new time and status unless it ran or was stopped."""
        for p in planned:
            values = {"due_at": p.due_at, "window_end": p.window_end, "status": p.status.value, "reason": p.reason}
            stmt = insert(steps).values(tenant_id=self.tenant_id, promotion_id=promotion_id, step=p.step,
                                        kind=p.kind.value, days_before=p.days_before, **values)
            await self.session.execute(stmt.on_conflict_do_update(
                index_elements=["tenant_id", "promotion_id", "step"], set_=values,
                where=steps.c.status.in_(("PENDING", "SKIPPED"))))

    async def steps(self, promotion_id: str) -> list[Step]:
        rows = (await self.session.execute(
            select(*_STEP_COLUMNS).where(steps.c.tenant_id == self.tenant_id, steps.c.promotion_id == promotion_id)
            .order_by(steps.c.due_at, steps.c.step))).all()
        return [Step(*r) for r in rows]

    async def step(self, promotion_id: str, step: str) -> Step | None:
        row = (await self.session.execute(select(*_STEP_COLUMNS).where(
            steps.c.tenant_id == self.tenant_id, steps.c.promotion_id == promotion_id, steps.c.step == step))).first()
        return Step(*row) if row else None

    async def update_step(self, promotion_id: str, step: str, values: dict[str, Any]) -> None:
        await self.session.execute(update(steps).where(
            steps.c.tenant_id == self.tenant_id, steps.c.promotion_id == promotion_id, steps.c.step == step
        ).values(**values))

    async def stop_steps(self, promotion_id: str, kinds: Sequence[str], reason: str) -> list[str]:
        result = await self.session.execute(
            update(steps).where(steps.c.tenant_id == self.tenant_id, steps.c.promotion_id == promotion_id,
                                steps.c.status == "PENDING", steps.c.kind.in_(list(kinds)))
            .values(status="STOPPED", reason=reason).returning(steps.c.step))
        return sorted(r[0] for r in result.all())

    # -- entries --------------------------------------------------------------------------------------------
    async def enter(self, competition_id: str, entry_id: str, keys: list[tuple[str, str]], profile_id: str | None,
                    at: datetime, capacity: int | None) -> None:
        stmt = insert(entries).values(tenant_id=self.tenant_id, competition_id=competition_id, entry_id=entry_id,
                                      keys=[list(k) for k in keys], profile_id=profile_id, entered_at=at,
                                      capacity=capacity)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id", "competition_id", "entry_id"],
            set_={"cancelled_at": None, "profile_id": func.coalesce(entries.c.profile_id, profile_id)}))

    async def withdraw(self, competition_id: str, entry_id: str, at: datetime) -> None:
        await self.session.execute(update(entries).where(
            entries.c.tenant_id == self.tenant_id, entries.c.competition_id == competition_id,
            entries.c.entry_id == entry_id, entries.c.cancelled_at.is_(None)).values(cancelled_at=at))

    async def unresolved(self, competition_id: str) -> list[tuple[str, list[tuple[str, str]]]]:
        rows = (await self.session.execute(select(entries.c.entry_id, entries.c["keys"]).where(
            entries.c.tenant_id == self.tenant_id, entries.c.competition_id == competition_id,
            entries.c.profile_id.is_(None), entries.c.cancelled_at.is_(None)))).all()
        return [(entry_id, [(t, v) for t, v in keys]) for entry_id, keys in rows]

    async def resolve(self, competition_id: str, entry_id: str, profile_id: str) -> None:
        await self.session.execute(update(entries).where(
            entries.c.tenant_id == self.tenant_id, entries.c.competition_id == competition_id,
            entries.c.entry_id == entry_id).values(profile_id=profile_id))

    async def entrants(self, competition_id: str, after: str | None, limit: int) -> list[str]:
        q = (select(entries.c.profile_id).distinct()
             .where(entries.c.tenant_id == self.tenant_id, entries.c.competition_id == competition_id,
                    entries.c.profile_id.is_not(None), entries.c.cancelled_at.is_(None)))
        if after is not None:
            q = q.where(entries.c.profile_id > after)
        return [r[0] for r in (await self.session.execute(q.order_by(entries.c.profile_id).limit(limit))).all()]

    async def entry_capacity(self, competition_id: str) -> int | None:
        return (await self.session.execute(select(entries.c.capacity).where(
            entries.c.tenant_id == self.tenant_id, entries.c.competition_id == competition_id,
            entries.c.capacity.is_not(None)).order_by(entries.c.entered_at.desc()).limit(1))).scalar()

    async def not_entered(self, audience: Select, competition_id: str | None, after: str | None, limit: int
                          ) -> list[str]:
        """The next `limit` audience members (in profile id order, after `after`) with no standing entry."""
        src = audience.subquery()
        pid = src.c[0]
        q = select(pid).distinct()
        if competition_id is not None:
            q = q.where(~exists().where(entries.c.tenant_id == self.tenant_id,
                                        entries.c.competition_id == competition_id, entries.c.profile_id == pid,
                                        entries.c.cancelled_at.is_(None)))
        if after is not None:
            q = q.where(pid > after)
        return [r[0] for r in (await self.session.execute(q.order_by(pid).limit(limit))).all()]

    # -- results --------------------------------------------------------------------------------------------
    async def message_totals(self, promotion_id: str) -> MessageTotals:
        base = and_(messages.c.tenant_id == self.tenant_id, messages.c.campaign_id == promotion_id)
        reached = messages.c.outcome == "REQUESTED"
        row = (await self.session.execute(select(
            func.count(func.distinct(messages.c.profile_id)).filter(reached),
            func.count(messages.c.opened_at).filter(reached), func.count(messages.c.clicked_at).filter(reached),
        ).where(base))).one()
        sends = (await self.session.execute(
            select(messages.c.channel, messages.c.outcome, func.count()).where(base)
            .group_by(messages.c.channel, messages.c.outcome).order_by(messages.c.channel, messages.c.outcome)
        )).all()
        return MessageTotals(reach=row[0], opened=row[1], clicked=row[2], sends=[(c, o, n) for c, o, n in sends])

    async def entry_totals(self, competition_id: str, promotion_id: str, audience_steps: Sequence[str],
                           window_days: int) -> tuple[int, int]:
        """(standing entries, of them by people an audience message of the promotion reached within the window
        before they entered)."""
        touched = exists().where(
            messages.c.tenant_id == self.tenant_id, messages.c.campaign_id == promotion_id,
            messages.c.profile_id == entries.c.profile_id, messages.c.variant.in_(list(audience_steps)),
            or_(messages.c.outcome == "REQUESTED", messages.c.requested_at.is_not(None)),
            func.coalesce(messages.c.requested_at, messages.c.submitted_at) <= entries.c.entered_at,
            func.coalesce(messages.c.requested_at, messages.c.submitted_at)
            >= entries.c.entered_at - func.make_interval(0, 0, 0, window_days))
        row = (await self.session.execute(select(func.count(), func.count().filter(touched)).where(
            entries.c.tenant_id == self.tenant_id, entries.c.competition_id == competition_id,
            entries.c.cancelled_at.is_(None)))).one()
        return int(row[0]), int(row[1])

    async def record_post(self, promotion_id: str, post_id: str, connection_id: str, platform: str,
                          values: dict[str, Any], at: datetime) -> None:
        stmt = insert(posts).values(tenant_id=self.tenant_id, promotion_id=promotion_id, post_id=post_id,
                                    connection_id=connection_id, platform=platform, updated_at=at,
                                    **{"status": "PUBLISHED", **values})
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id", "promotion_id", "post_id", "connection_id"],
            set_={**values, "updated_at": at}))

    async def social_totals(self, promotion_id: str) -> SocialTotals:
        p = posts.c
        row = (await self.session.execute(select(
            func.count().filter(p.status == "PUBLISHED"), func.count().filter(p.status == "FAILED"),
            *(func.coalesce(func.sum(p[c]), 0) for c in ("likes", "comments", "shares", "impressions", "clicks")),
        ).where(p.tenant_id == self.tenant_id, p.promotion_id == promotion_id))).one()
        return SocialTotals(*(int(v) for v in row))
