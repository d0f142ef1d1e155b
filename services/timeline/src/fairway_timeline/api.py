"""What every endpoint of the service shares: the clock, the roles, and the profile a path id stands for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import NotFound, require_roles
from fairway_timeline.clock import Clock
from fairway_timeline.identity_map.repository import ProfileRepository


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session on the read pool: autocommit, so a read costs its statements and nothing else (no BEGIN,
    no COMMIT, and a one-statement pre-ping). Each statement sees its own consistent snapshot."""
    async with request.app.state.runtime.extras[READ_SESSIONS]() as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(_read_session)]
READ_SESSIONS = "read_sessionmaker"


def _clock(request: Request) -> Clock:
    return request.app.state.runtime.extras["clock"]


ClockDep = Annotated[Clock, Depends(_clock)]
ProfileIdPath = Annotated[str, Path(min_length=1, max_length=64, description="A profile id from identity")]

# Staff read and write notes; analysts read what happened but do not write about people.
Reader = require_roles("staff", "marketer", "analyst")
Writer = require_roles("staff", "marketer")


async def live_profile(session: AsyncSession, tenant_id: str, profile_id: str) -> str:
    """The profile to show for `profile_id`: itself, or the winner it was merged into. 404 when the timeline
    has never heard of it (identity announces every profile) or it was erased."""
    root = await ProfileRepository(session).canonical(tenant_id, profile_id)
    if root is None or root[1] == "ERASED":
        raise NotFound(f"no customer {profile_id!r}")
    return root[0]


def utc(dt: datetime) -> datetime:
    from datetime import UTC

    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
