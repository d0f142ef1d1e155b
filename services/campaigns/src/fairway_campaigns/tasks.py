"""Names of the service's durable jobs, so a concept can defer another's job without importing it, and the one
method of the chassis' Jobs a concept uses to defer one."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

FANOUT = "campaigns.fanout"  # hand the next batches of a SENDING campaign's audience to dispatch
DECIDE_AB_TEST = "campaigns.decide_ab_test"  # the end of an A/B test: pick the winner, send it to the rest
APPROVAL_DECIDED = "campaigns.approval_decided"  # a reviewer decided: the campaign follows (scheduled, or draft)
EXPIRE_APPROVALS = "campaigns.expire_approvals"  # periodic: pending requests past their expiry


class JobDeferrer(Protocol):
    async def defer_in(self, session: AsyncSession, task: Any, *, tenant_id: str, schedule_at: datetime | None = None,
                       queueing_lock: str | None = None, lock: str | None = None, priority: int = 0,
                       **kwargs: Any) -> int | None: ...


def fanout_lock(tenant_id: str, campaign_id: str) -> str:
    """One fan-out job per campaign waits (queueing lock) and one runs (lock) at a time."""
    return f"fanout:{tenant_id}:{campaign_id}"
PROMOTION_STEP = "campaigns.promotion_step"  # one step of a promotion's schedule (announcement, a reminder, ...)


def promotion_lock(tenant_id: str, promotion_id: str) -> str:
    """One step of a promotion runs at a time."""
    return f"promotion:{tenant_id}:{promotion_id}"
