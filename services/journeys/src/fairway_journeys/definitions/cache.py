"""Frozen versions parsed once per process: a version never changes, so caching it needs no invalidation."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_journeys.definitions.model import Definition
from fairway_journeys.definitions.repository import JourneyRepository


class VersionCache:
    def __init__(self, size: int = 5000) -> None:
        self.size = size
        self._items: dict[tuple[str, str, int], Definition] = {}

    async def get(self, session: AsyncSession, tenant_id: str, journey_id: str, version: int) -> Definition | None:
        key = (tenant_id, journey_id, version)
        hit = self._items.get(key)
        if hit is not None:
            return hit
        v = await JourneyRepository(session, tenant_id).version(journey_id, version)
        if v is None:
            return None
        if len(self._items) >= self.size:
            self._items.clear()
        d = self._items[key] = Definition.model_validate(v.definition)
        return d
