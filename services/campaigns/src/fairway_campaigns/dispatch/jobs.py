"""Dispatch's durable job: release the messages held for quiet hours, a best time or a not-before time."""
from __future__ import annotations

from typing import Any

from fairway_campaigns.dispatch.service import RELEASE_BATCH, RELEASE_TASK
from fairway_campaigns.jobs import registry


@registry.task(RELEASE_TASK)
async def release(runtime: Any, *, tenant_id: str, at: str) -> None:
    """Everything of the tenant due by now, a transaction per RELEASE_BATCH messages. A crash part-way leaves the
    rest HELD and the job is retried; what was released is not held any more, so nothing goes twice."""
    state = runtime.state
    while True:
        async with runtime.sessionmaker() as session:
            n = await state.dispatch.release_due(session, tenant_id, state.clock.now())
            await session.commit()
        if n < RELEASE_BATCH:
            return
