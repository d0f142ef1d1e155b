"""All SQL on content approvals, for one tenant."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.approvals.models import approval_settings, approvals, approved_texts


@dataclass(frozen=True)
class Approval:
    tenant_id: str
    id: str
    campaign_id: str
    channel: str
    field: str
    variant: str | None
    content_type: str
    content_hash: str
    text: str
    requirement: str
    reason: str
    gateway_flagged: bool
    status: str
    reviewer: str | None
    feedback: str | None
    edited: bool
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None


class ApprovalRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def settings(self) -> dict[str, Any] | None:
        return (await self.session.execute(
            select(approval_settings.c.settings).where(approval_settings.c.tenant_id == self.tenant_id))).scalar()

    async def put_settings(self, settings: dict[str, Any], by: str, now: datetime) -> None:
        stmt = insert(approval_settings).values(tenant_id=self.tenant_id, settings=settings, updated_at=now,
                                                updated_by=by)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id"], set_={"settings": settings, "updated_at": now, "updated_by": by}))

    async def uses(self, hashes: Sequence[str]) -> dict[str, int]:
        rows = (await self.session.execute(
            select(approved_texts.c.content_hash, approved_texts.c.approved_uses)
            .where(approved_texts.c.tenant_id == self.tenant_id, approved_texts.c.content_hash.in_(list(hashes)))
        )).all()
        return {h: n for h, n in rows}

    async def count_use(self, content_hash: str) -> None:
        stmt = insert(approved_texts).values(tenant_id=self.tenant_id, content_hash=content_hash, approved_uses=1)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id", "content_hash"],
            set_={"approved_uses": approved_texts.c.approved_uses + 1}))

    async def add(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(approvals.insert(), [{"tenant_id": self.tenant_id, **r} for r in rows])

    async def get(self, approval_id: str, *, lock: bool = False) -> Approval | None:
        q = select(approvals).where(approvals.c.tenant_id == self.tenant_id, approvals.c.id == approval_id)
        row = (await self.session.execute(q.with_for_update() if lock else q)).first()
        return Approval(**row._mapping) if row else None

    async def of_campaign(self, campaign_id: str, statuses: Sequence[str] | None = None) -> list[Approval]:
        q = select(approvals).where(approvals.c.tenant_id == self.tenant_id, approvals.c.campaign_id == campaign_id)
        if statuses:
            q = q.where(approvals.c.status.in_(list(statuses)))
        return [Approval(**r._mapping) for r in (await self.session.execute(q.order_by(approvals.c.id))).all()]

    async def page(self, status: str | None, after: tuple[datetime, str] | None, limit: int) -> list[Approval]:
        q = select(approvals).where(approvals.c.tenant_id == self.tenant_id)
        if status:
            q = q.where(approvals.c.status == status)
        if after:
            q = q.where(tuple_(approvals.c.created_at, approvals.c.id) < tuple_(*after))
        q = q.order_by(approvals.c.created_at.desc(), approvals.c.id.desc()).limit(limit)
        return [Approval(**r._mapping) for r in (await self.session.execute(q)).all()]

    async def decide(self, approval_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(update(approvals).where(
            approvals.c.tenant_id == self.tenant_id, approvals.c.id == approval_id).values(**values))

    async def withdraw_pending(self, campaign_id: str, now: datetime) -> None:
        await self.session.execute(update(approvals).where(
            approvals.c.tenant_id == self.tenant_id, approvals.c.campaign_id == campaign_id,
            approvals.c.status == "PENDING").values(status="WITHDRAWN", decided_at=now))


async def expired(session: AsyncSession, now: datetime, limit: int = 500) -> list[Approval]:
    """Pending requests past their expiry, of every tenant (the expiry job then works tenant by tenant)."""
    rows = (await session.execute(
        select(approvals).where(approvals.c.status == "PENDING", approvals.c.expires_at <= now)
        .order_by(approvals.c.expires_at).limit(limit).with_for_update(skip_locked=True)
    )).all()
    return [Approval(**r._mapping) for r in rows]
