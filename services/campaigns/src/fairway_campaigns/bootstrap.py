"""The state consumer (campaigns.state): a new installation's audience read model and results' key map bootstrap
from identity's profile snapshots and segmentation's memberships, through the code their live events go through.
Above both concepts it feeds, so neither imports the other."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.audience.handlers import STATE_TOPICS, AudienceHandler
from fairway_campaigns.results import service as results
from fairway_events import Delivery
from fairway_events.contracts.state import ProfileState, StateTombstone

CONSUMER = "campaigns.state"
TOPICS = STATE_TOPICS


class StateHandler:
    def __init__(self, audience: AudienceHandler) -> None:
        self.audience = audience

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        await self.audience(session, deliveries)
        for d in deliveries:
            p = d.envelope.payload
            if isinstance(p, ProfileState) or (isinstance(p, StateTombstone) and p.topic == "crm.identity.state"):
                await results.identity_changed(session, d.envelope.tenant_id, p)
