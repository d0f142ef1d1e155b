"""SQL of the content cache: answers keyed by a hash of the sanitised request, with a per-tenant TTL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_ai_gateway.db import content_cache
from fairway_chassis import RepositoryBase


class CacheRepository(RepositoryBase):
    """One tenant's cached answers."""

    async def get(self, key: str, now: datetime) -> tuple[str, dict[str, Any]] | None:
        row = (
            await self.session.execute(
                select(content_cache.c.model, content_cache.c.output).where(
                    self.owns(content_cache),
                    content_cache.c.cache_key == key,
                    content_cache.c.expires_at > now,
                )
            )
        ).first()
        return None if row is None else (row.model, row.output)

    async def put(
        self,
        *,
        key: str,
        operation: str,
        model: str,
        output: dict[str, Any],
        expires_at: datetime,
    ) -> None:
        stmt = insert(content_cache).values(
            tenant_id=self.tenant_id,
            cache_key=key,
            operation=operation,
            model=model,
            output=output,
            expires_at=expires_at,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[content_cache.c.tenant_id, content_cache.c.cache_key],
                set_={
                    "model": stmt.excluded.model,
                    "output": stmt.excluded.output,
                    "expires_at": stmt.excluded.expires_at,
                    "created_at": stmt.excluded.created_at,
                },
            )
        )


class CacheSweep:
    """Expired answers of every tenant go at once (retention, across tenants by design)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def purge(self, now: datetime) -> int:
        res = await self.session.execute(delete(content_cache).where(content_cache.c.expires_at <= now))
        return res.rowcount or 0
