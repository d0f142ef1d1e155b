"""All SQL on segments and their size history, for one tenant; and the maintenance loop's view across tenants."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import RepositoryBase
from fairway_segmentation.db import segment_size_history, segments

S = segments.c
H = segment_size_history.c


def lock_key(tenant_id: str, segment_id: str) -> str:
    return f"fairway-segment:{tenant_id}:{segment_id}"


@dataclass(frozen=True, slots=True)
class Segment:
    """A stored segment (a row of `segments`)."""

    tenant_id: str
    segment_id: str
    name: str
    description: str | None
    type: str
    criteria: dict[str, Any] | None
    active: bool
    sync_to_messaging: bool
    member_count: int
    time_sensitivity: str | None
    last_refreshed_at: datetime | None
    time_checked_at: datetime | None
    last_synced_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SizePoint:
    at: datetime
    member_count: int
    entered: int
    exited: int
    reason: str


class SegmentRepository(RepositoryBase):
    """Segments of one tenant, their size history and their locks."""

    async def create(self, values: dict[str, Any]) -> None:
        await self.session.execute(segments.insert().values(**self.row(**values)))

    async def get(self, segment_id: str, *, for_update: bool = False) -> Segment | None:
        q = select(segments).where(self.owns(segments), S.segment_id == segment_id)
        if for_update:
            q = q.with_for_update()
        row = (await self.session.execute(q)).mappings().first()
        return Segment(**row) if row else None

    async def page(self, *, after: str | None, limit: int, type_: str | None) -> list[Segment]:
        q = select(segments).where(self.owns(segments))
        if after:
            q = q.where(S.segment_id > after)
        if type_:
            q = q.where(S.type == type_)
        return [Segment(**r) for r in (await self.session.execute(q.order_by(S.segment_id).limit(limit))).mappings()]

    async def name_taken(self, name: str, *, except_id: str | None = None) -> bool:
        q = select(S.segment_id).where(self.owns(segments), func.lower(S.name) == name.lower())
        if except_id:
            q = q.where(S.segment_id != except_id)
        return (await self.session.execute(q.limit(1))).first() is not None

    async def names(self) -> list[str]:
        return list(
            (
                await self.session.execute(
                    select(S.name).where(self.owns(segments)).order_by(S.name).limit(200)
                )
            ).scalars()
        )

    async def update(self, segment_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(segments).where(self.owns(segments), S.segment_id == segment_id).values(**values)
        )

    async def delete(self, segment_id: str) -> None:
        await self.session.execute(
            segments.delete().where(self.owns(segments), S.segment_id == segment_id)
        )

    async def all(self, *, dynamic_active_only: bool = False) -> list[Segment]:
        q = select(segments).where(self.owns(segments))
        if dynamic_active_only:
            q = q.where(S.type == "DYNAMIC", S.active.is_(True))
        return [Segment(**r) for r in (await self.session.execute(q.order_by(S.segment_id))).mappings()]

    async def adjust_counts(
        self,
        deltas: dict[str, int],
        *,
        synced_at: datetime | None = None,
        synced: Iterable[str] = (),
    ) -> None:
        synced = set(synced)
        # Sorted, so two consumers updating the same segments never wait on each other in a cycle.
        for segment_id in sorted(set(deltas) | synced):
            values: dict[str, Any] = {"member_count": S.member_count + deltas.get(segment_id, 0)}
            if segment_id in synced:
                values["last_synced_at"] = synced_at
            await self.session.execute(
                update(segments).where(self.owns(segments), S.segment_id == segment_id).values(**values)
            )

    async def add_history(
        self,
        segment_id: str,
        at: datetime,
        member_count: int,
        entered: int,
        exited: int,
        reason: str,
    ) -> None:
        await self.session.execute(
            segment_size_history.insert().values(
                tenant_id=self.tenant_id,
                segment_id=segment_id,
                at=at,
                member_count=member_count,
                entered=entered,
                exited=exited,
                reason=reason,
            )
        )

    async def history(self, segment_id: str, limit: int = 100) -> list[SizePoint]:
        q = (
            select(H.at, H.member_count, H.entered, H.exited, H.reason)
            .where(self.owns(segment_size_history), H.segment_id == segment_id)
            .order_by(H.at.desc(), H.id.desc())
            .limit(limit)
        )
        return [SizePoint(**r) for r in reversed(list((await self.session.execute(q)).mappings()))]

    # -- locks ------------------------------------------------------------------------------------------
    # Per segment: a refresh or an edit holds it alone; each consumer transaction shares every segment's.
    # Per tenant: creating or deleting a segment holds it alone; consumer transactions share it, so the set of
    # segments they evaluate cannot change under them. Order: tenant, then segments (sorted): no cycles.
    async def lock_tenant(self, *, shared: bool) -> None:
        fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        await self.session.execute(
            text(f"SELECT {fn}(hashtextextended(:k, 0))"), {"k": f"fairway-segments-of:{self.tenant_id}"}
        )

    async def lock(self, segment_id: str) -> None:
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": lock_key(self.tenant_id, segment_id)},
        )

    async def try_lock(self, segment_id: str) -> bool:
        return bool(
            (
                await self.session.execute(
                    text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"),
                    {"k": lock_key(self.tenant_id, segment_id)},
                )
            ).scalar()
        )

    async def lock_shared(self, segment_ids: Sequence[str]) -> None:
        if segment_ids:
            await self.session.execute(
                text(
                    "SELECT pg_advisory_xact_lock_shared(hashtextextended(k, 0)) "
                    "FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k"
                ),
                {"keys": sorted(lock_key(self.tenant_id, s) for s in segment_ids)},
            )


class SegmentSchedule:
    """What the maintenance loop finds due, across tenants by design: it lists (tenant, segment) and handles each
    under that tenant's own repositories."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def time_sensitive(self) -> list[Segment]:
        q = select(segments).where(S.type == "DYNAMIC", S.active.is_(True), S.time_sensitivity.is_not(None))
        return [Segment(**r) for r in (await self.session.execute(q)).mappings()]

    async def refresh_candidates(self, before: datetime) -> list[tuple[str, str]]:
        """(tenant, segment id) of the active dynamic segments last refreshed before `before`."""
        q = select(S.tenant_id, S.segment_id).where(
            S.type == "DYNAMIC",
            S.active.is_(True),
            (S.last_refreshed_at.is_(None)) | (S.last_refreshed_at < before),
        )
        return [(r.tenant_id, r.segment_id) for r in await self.session.execute(q)]
