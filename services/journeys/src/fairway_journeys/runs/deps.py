"""What moving runs needs besides the session: parsed versions, and a way to wake the engine when timers fall
due (procrastinate jobs in production; see `jobs`)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_journeys.definitions.cache import VersionCache


class TimerScheduler(Protocol):
    async def schedule(self, session: AsyncSession, tenant_id: str, due: Iterable[datetime]) -> None:
        """Make sure the engine wakes (in this transaction's commit) for timers due at these instants."""


class NoScheduler:
    """For callers that never set timers, and for tests that fire timers themselves."""

    async def schedule(self, session: AsyncSession, tenant_id: str, due: Iterable[datetime]) -> None:
        return None


@dataclass
class RunDeps:
    versions: VersionCache = field(default_factory=VersionCache)
    scheduler: TimerScheduler = field(default_factory=NoScheduler)
