"""Review requests nobody decided in time expire (every minute, across tenants)."""
from __future__ import annotations

from typing import Any

from fairway_campaigns import tasks
from fairway_campaigns.approvals import service
from fairway_campaigns.jobs import registry


@registry.periodic(tasks.EXPIRE_APPROVALS, cron="* * * * *")
async def expire_approvals(runtime: Any, *, timestamp: int) -> None:
    async with runtime.sessionmaker() as session, session.begin():
        await service.expire(session, runtime.jobs, runtime.state.clock.now())
