"""The A/B test's end, as a job scheduled when the test wave is out."""
from __future__ import annotations

from typing import Any

from fairway_campaigns import tasks
from fairway_campaigns.abtests import service
from fairway_campaigns.jobs import registry


@registry.task(tasks.DECIDE_AB_TEST)
async def decide_ab_test(runtime: Any, *, tenant_id: str, campaign_id: str) -> None:
    async with runtime.sessionmaker() as session, session.begin():
        await service.conclude(session, runtime.jobs, tenant_id, campaign_id, runtime.state.clock.now())
