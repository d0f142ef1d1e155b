"""All SQL of the calendar's own tables: what other services announced (campaign sends, competitions), and the
tenants' feed secrets (stored as hashes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_social.db import calendar_feeds, calendar_items


@dataclass(frozen=True)
class CalendarItem:
    tenant_id: str
    kind: str
    source_id: str
    title: str
    channel: str
    status: str
    starts_at: datetime
    details: dict[str, Any]
    updated_at: datetime


class CalendarRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def upsert(self, kind: str, source_id: str, *, title: str, channel: str, status: str, starts_at: datetime,
                     details: dict[str, Any], now: datetime) -> None:
        values = dict(title=title, channel=channel, status=status, starts_at=starts_at, details=details,
                      updated_at=now)
        await self.session.execute(insert(calendar_items).values(tenant_id=self.tenant_id, kind=kind,
                                                                 source_id=source_id, **values)
                                   .on_conflict_do_update(constraint="pk_calendar_items", set_=values))

    async def set_status(self, kind: str, source_id: str, status: str, now: datetime) -> None:
        await self.session.execute(update(calendar_items).where(
            calendar_items.c.tenant_id == self.tenant_id, calendar_items.c.kind == kind,
            calendar_items.c.source_id == source_id).values(status=status, updated_at=now))

    async def between(self, start: datetime, end: datetime) -> list[CalendarItem]:
        rows = (await self.session.execute(select(calendar_items).where(
            calendar_items.c.tenant_id == self.tenant_id, calendar_items.c.starts_at >= start,
            calendar_items.c.starts_at < end).order_by(calendar_items.c.starts_at))).all()
        return [CalendarItem(**r._mapping) for r in rows]

    async def set_feed(self, secret_hash: str, now: datetime) -> None:
        values = dict(secret_hash=secret_hash, created_at=now)
        await self.session.execute(insert(calendar_feeds).values(tenant_id=self.tenant_id, **values)
                                   .on_conflict_do_update(index_elements=["tenant_id"], set_=values))

    async def feed_hash(self) -> str | None:
        return (await self.session.execute(select(calendar_feeds.c.secret_hash).where(
            calendar_feeds.c.tenant_id == self.tenant_id))).scalar()
