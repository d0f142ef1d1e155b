"""All SQL on campaigns. A repository is built for one tenant and scopes every statement by it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.campaigns.models import campaigns
from fairway_campaigns.campaigns.states import State


@dataclass(frozen=True)
class Campaign:
    tenant_id: str
    id: str
    name: str
    goal: str | None
    channels: list[str]
    target_segment_id: str | None
    exclusion_segment_ids: list[str]
    content: dict[str, Any]
    time_zone: str
    schedule: dict[str, Any]
    ab_test: dict[str, Any] | None
    state: State
    resume_state: State | None
    phase: str | None
    starts_at: datetime | None
    audience_size: int | None
    test_size: int | None
    cursor: int
    winner: str | None
    decision: dict[str, Any] | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    revision: int


def _campaign(row: Any) -> Campaign:
    m = dict(row._mapping)
    m["state"] = State(m["state"])
    m["resume_state"] = State(m["resume_state"]) if m["resume_state"] else None
    return Campaign(**m)


class CampaignRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def add(self, values: dict[str, Any]) -> None:
        await self.session.execute(campaigns.insert().values(tenant_id=self.tenant_id, **values))

    async def get(self, campaign_id: str, *, lock: bool = False) -> Campaign | None:
        """`lock`: FOR UPDATE, so state changes and fan-out batches of one campaign happen one after another."""
        q = select(campaigns).where(campaigns.c.tenant_id == self.tenant_id, campaigns.c.id == campaign_id)
        if lock:
            q = q.with_for_update()
        row = (await self.session.execute(q)).first()
        return _campaign(row) if row else None

    async def page(self, after: tuple[datetime, str] | None, limit: int, state: State | None) -> list[Campaign]:
        """Newest first; `after` is the (created_at, id) of the previous page's last item."""
        q = select(campaigns).where(campaigns.c.tenant_id == self.tenant_id)
        if state is not None:
            q = q.where(campaigns.c.state == state.value)
        if after is not None:
            q = q.where(tuple_(campaigns.c.created_at, campaigns.c.id) < tuple_(*after))
        q = q.order_by(campaigns.c.created_at.desc(), campaigns.c.id.desc()).limit(limit)
        return [_campaign(r) for r in (await self.session.execute(q)).all()]

    async def update(self, campaign_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(campaigns)
            .where(campaigns.c.tenant_id == self.tenant_id, campaigns.c.id == campaign_id)
            .values(revision=campaigns.c.revision + 1, **values)
        )

    async def delete(self, campaign_id: str) -> None:
        await self.session.execute(
            delete(campaigns).where(campaigns.c.tenant_id == self.tenant_id, campaigns.c.id == campaign_id)
        )

    async def in_state(self, state: State) -> list[Campaign]:
        q = select(campaigns).where(campaigns.c.tenant_id == self.tenant_id, campaigns.c.state == state.value)
        return [_campaign(r) for r in (await self.session.execute(q)).all()]
