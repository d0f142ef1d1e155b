"""All SQL on journeys and their versions."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_journeys.db import journey_versions, journeys


@dataclass(frozen=True)
class Journey:
    tenant_id: str
    id: str
    name: str
    description: str | None
    goal_text: str | None
    status: str
    definition: dict[str, Any]
    active_version: int | None
    latest_version: int
    origin: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Version:
    journey_id: str
    version: int
    definition: dict[str, Any]
    created_at: datetime


def _journey(row: Any) -> Journey:
    return Journey(**{k: row._mapping[k] for k in Journey.__dataclass_fields__})


class JourneyRepository:
    """Journeys of one tenant."""

    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def add(self, j: Journey) -> None:
        await self.session.execute(journeys.insert().values(**j.__dict__))

    async def get(self, journey_id: str, *, for_update: bool = False) -> Journey | None:
        q = select(journeys).where(journeys.c.tenant_id == self.tenant_id, journeys.c.id == journey_id)
        if for_update:
            q = q.with_for_update()
        row = (await self.session.execute(q)).first()
        return _journey(row) if row else None

    async def page(self, *, status: str | None, after: str | None, limit: int) -> list[Journey]:
        q = select(journeys).where(journeys.c.tenant_id == self.tenant_id)
        if status:
            q = q.where(journeys.c.status == status)
        if after:
            q = q.where(journeys.c.id < after)
        rows = (await self.session.execute(q.order_by(journeys.c.id.desc()).limit(limit))).all()
        return [_journey(r) for r in rows]

    async def update(self, journey_id: str, **values: Any) -> None:
        await self.session.execute(
            update(journeys).where(journeys.c.tenant_id == self.tenant_id, journeys.c.id == journey_id).values(**values)
        )

    async def delete(self, journey_id: str) -> None:
        await self.session.execute(
            delete(journeys).where(journeys.c.tenant_id == self.tenant_id, journeys.c.id == journey_id)
        )

    async def active(self) -> list[Journey]:
        """Journeys new runs can enter."""
        q = select(journeys).where(journeys.c.tenant_id == self.tenant_id, journeys.c.status == "ACTIVE")
        return [_journey(r) for r in (await self.session.execute(q)).all()]

    async def with_status(self, statuses: Sequence[str]) -> list[Journey]:
        q = select(journeys).where(journeys.c.tenant_id == self.tenant_id, journeys.c.status.in_(statuses))
        return [_journey(r) for r in (await self.session.execute(q)).all()]

    async def add_version(self, journey_id: str, version: int, definition: dict[str, Any], at: datetime) -> None:
        await self.session.execute(journey_versions.insert().values(
            tenant_id=self.tenant_id, journey_id=journey_id, version=version, definition=definition, created_at=at))

    async def version(self, journey_id: str, version: int) -> Version | None:
        row = (await self.session.execute(select(journey_versions).where(
            journey_versions.c.tenant_id == self.tenant_id, journey_versions.c.journey_id == journey_id,
            journey_versions.c.version == version))).first()
        return Version(row.journey_id, row.version, row.definition, row.created_at) if row else None

    async def all_versions(self) -> list[tuple[str, int]]:
        """(journey, version) of every frozen version of the tenant (a small table: versions are made by hand)."""
        q = select(journey_versions.c.journey_id, journey_versions.c.version).where(
            journey_versions.c.tenant_id == self.tenant_id)
        return [(j, v) for j, v in (await self.session.execute(q)).all()]

    async def versions(self, journey_id: str) -> list[Version]:
        rows = (await self.session.execute(select(journey_versions).where(
            journey_versions.c.tenant_id == self.tenant_id, journey_versions.c.journey_id == journey_id,
        ).order_by(journey_versions.c.version))).all()
        return [Version(r.journey_id, r.version, r.definition, r.created_at) for r in rows]
