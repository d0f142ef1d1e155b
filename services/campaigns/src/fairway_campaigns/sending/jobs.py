"""The fan-out as a durable job: one per campaign at a time (procrastinate lock), re-run after a crash (the
chassis hands a dead worker's jobs back to the queue), continuing from the committed checkpoint."""
from __future__ import annotations

from typing import Any

import structlog

from fairway_campaigns import tasks
from fairway_campaigns.jobs import registry
from fairway_campaigns.sending import service
from fairway_campaigns.state import CampaignsState

log = structlog.get_logger("fairway.campaigns.fanout")


@registry.task(tasks.FANOUT)
async def fanout(runtime: Any, *, tenant_id: str, campaign_id: str) -> None:
    state: CampaignsState = runtime.state
    assert runtime.sessionmaker is not None and state.dispatch is not None
    async with runtime.sessionmaker() as session, session.begin():
        campaign = await service.start(session, state.dispatch, tenant_id, campaign_id, state.clock.now())
    if campaign is None:
        return
    batches = 0
    while True:
        async with runtime.sessionmaker() as session, session.begin():
            step = await service.step(session, state.dispatch, runtime.jobs, tenant_id, campaign_id,
                                      state.clock.now(), state.batch_size)
        if step is service.Step.STOP:
            log.info("fan-out stopped", campaign_id=campaign_id, batches=batches)
            return
        batches += 1
