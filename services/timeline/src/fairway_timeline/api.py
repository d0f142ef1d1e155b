"""What every endpoint of the service shares: the clock, the roles, and the profile a path id stands for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import Clock, NotFound, Principal, require_roles, runtime_state
from fairway_timeline.identity_map.repository import ProfileRepository
from fairway_timeline.state import TimelineState

StateDep = Annotated[TimelineState, Depends(runtime_state(TimelineState))]


async def _read_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """A session on the read pool: autocommit, so a read costs its statements and nothing else (no BEGIN,
    no COMMIT, and a one-statement pre-ping). Each statement sees its own consistent snapshot."""
    assert state.read_sessions is not None
    async with state.read_sessions() as session:
        yield session


def _clock(state: StateDep) -> Clock:
    return state.clock


ReadSessionDep = Annotated[AsyncSession, Depends(_read_session)]
ClockDep = Annotated[Clock, Depends(_clock)]
ProfileIdPath = Annotated[str, Path(min_length=1, max_length=64, description="A profile id from identity")]

# Staff read and write notes; analysts read what happened but do not write about people.
Reader = Annotated[Principal, require_roles("staff", "marketer", "analyst")]
Writer = Annotated[Principal, require_roles("staff", "marketer")]


async def live_profile(session: AsyncSession, tenant_id: str, profile_id: str) -> str:
    """The profile to show for `profile_id`: itself, or the winner it was merged into. 404 when the timeline
    has never heard of it (identity announces every profile) or it was erased."""
    root = await ProfileRepository.for_tenant(session, tenant_id).canonical(profile_id)
    if root is None or root[1] == "ERASED":
        raise NotFound(f"no customer {profile_id!r}")
    return root[0]


def utc(dt: datetime) -> datetime:
    from datetime import UTC

    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
