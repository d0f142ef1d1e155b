"""What the running timeline service holds besides the chassis' runtime: its clock and its read pool."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fairway_chassis import Clock


@dataclass
class TimelineState:
    clock: Clock  # endpoints read "now" from the same clock as the consumer
    read_engine: AsyncEngine | None = None  # opened on start-up
    read_sessions: async_sessionmaker[AsyncSession] | None = None
