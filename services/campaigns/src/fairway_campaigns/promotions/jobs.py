"""A promotion's steps as durable jobs (one per step and due time; one step of a promotion runs at a time). A
crashed worker's job runs again and carries on from the step's committed checkpoint."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from fairway_campaigns import tasks
from fairway_campaigns.jobs import registry
from fairway_campaigns.promotions import content, service
from fairway_campaigns.state import CampaignsState

log = structlog.get_logger("fairway.campaigns.promotions")
CONTENT_TIMEOUT = 15.0  # seconds the AI gateway gets before the templates write the copy


@registry.task(tasks.PROMOTION_STEP)
async def promotion_step(runtime: Any, *, tenant_id: str, promotion_id: str, step: str, due: str) -> None:
    state: CampaignsState = runtime.state
    assert runtime.sessionmaker is not None and state.dispatch is not None
    async with runtime.sessionmaker() as session:
        event = await service.needs_content(session, tenant_id, promotion_id)
    if event is not None:  # asked outside any transaction: the gateway may take seconds
        copy, source = await content.write(getattr(runtime, "rpc", None), tenant_id, event, CONTENT_TIMEOUT)
        async with runtime.sessionmaker() as session, session.begin():
            await service.keep_content(session, tenant_id, promotion_id, copy, source)
    at = datetime.fromisoformat(due)
    batches = 0
    while True:
        async with runtime.sessionmaker() as session, session.begin():
            result = await service.step(session, state.dispatch, tenant_id, promotion_id, step, at,
                                        state.clock.now(), state.batch_size)
        if result is service.Step_.STOP:
            log.info("promotion step finished", promotion_id=promotion_id, step=step, batches=batches)
            return
        batches += 1
