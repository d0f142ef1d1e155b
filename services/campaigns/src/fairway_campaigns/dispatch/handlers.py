"""crm.dispatch.requests: what journeys, promotions and interventions ask to send, through the same policy as
campaigns. One transaction per batch (the chassis' unit of work); the ledger's request id makes a redelivered
request a no-op, and each submitter hears back through dispatch.outcome."""
from __future__ import annotations

from collections import defaultdict

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.dispatch.service import DispatchService
from fairway_chassis import Clock
from fairway_events import Delivery
from fairway_events.contracts.dispatch import REQUESTS, DispatchRequested

log = structlog.get_logger("fairway.campaigns.dispatch")
CONSUMER = "campaigns.dispatch.requests"
TOPICS = [REQUESTS]
HANDLED = {"dispatch.requested"}


class DispatchRequestsHandler:
    def __init__(self, dispatch: DispatchService, clock: Clock) -> None:
        self.dispatch = dispatch
        self.clock = clock

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        by_tenant: dict[str, list[DispatchRequested]] = defaultdict(list)
        for d in deliveries:
            payload = d.envelope.payload
            if not isinstance(payload, DispatchRequested):
                continue
            if not (payload.content.body or payload.content.templateId):
                log.warning("dispatch request without content dropped", request_id=payload.requestId,
                            tenant_id=d.envelope.tenant_id)
                continue
            by_tenant[d.envelope.tenant_id].append(payload)
        now = self.clock.now()
        for tenant, requests in by_tenant.items():
            await self.dispatch.submit_many(session, tenant, requests, now)
