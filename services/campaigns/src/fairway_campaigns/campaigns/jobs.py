"""The campaign follows its reviewers' decisions (deferred by approvals in the decision's transaction)."""
from __future__ import annotations

from typing import Any

from fairway_campaigns import tasks
from fairway_campaigns.campaigns import service
from fairway_campaigns.jobs import registry


@registry.task(tasks.APPROVAL_DECIDED)
async def approval_decided(runtime: Any, *, tenant_id: str, campaign_id: str) -> None:
    async with runtime.sessionmaker() as session, session.begin():
        await service.review_decided(session, runtime.jobs, tenant_id, campaign_id, runtime.state.clock.now())
