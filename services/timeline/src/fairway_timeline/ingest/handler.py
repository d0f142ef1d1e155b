"""The timeline's consumers: upstream topics and crm.identity, in one ordered unit of work per batch; and
crm.identity.state (its own group), whose snapshots and tombstones go through the same identity code.

Both kinds of event go through one consumer so a batch applies them in the order they arrived; runs of
upstream events between identity events are stored in bulk, and so are runs of profile.created and
profile.identity_linked (a history's announcements are mostly new people and their new keys).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import Clock
from fairway_events import Delivery, Envelope, registry
from fairway_events.contracts.upstream import UPSTREAM_TOPICS
from fairway_events.runs import runs
from fairway_timeline.activities.catalogue import UPSTREAM
from fairway_timeline.counters import service as counters
from fairway_timeline.ingest import upstream
from fairway_timeline.ingest.identity import IDENTITY_EVENTS, STATE_EVENTS, IdentitySync
from fairway_timeline.ingest.touched import Touched
from fairway_timeline.locks import lock_tenants
from fairway_timeline.settings import Settings

TOPICS = [*UPSTREAM_TOPICS, "crm.identity"]
# Upstream events that are about a person; a competition's own events (published, full, ...) are not consumed.
HANDLED = (set(UPSTREAM) & set().union(*(registry.types_on(t) for t in UPSTREAM_TOPICS))) | IDENTITY_EVENTS


class TimelineIngest:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    async def __call__(self, session: AsyncSession, deliveries: list[Delivery]) -> None:
        now = self.clock.now()
        await lock_tenants(session, {d.envelope.tenant_id for d in deliveries})
        touched = Touched()
        sync = IdentitySync(session, self.settings, now, touched)
        for kind, run in runs([d.envelope for d in deliveries], kind=_kind):
            if kind == "upstream":
                await upstream.ingest(session, run, settings=self.settings, now=now, touched=touched)
            elif kind == "announced":
                await sync.announced_many(run)
            else:
                for env in run:
                    await sync.apply(env)
        await counters.drop(session, touched.gone)
        await counters.refresh(session, touched.live, now)


def _kind(env: Envelope) -> str:
    if env.event_type in STATE_EVENTS:
        return "identity"
    if env.event_type not in IDENTITY_EVENTS:
        return "upstream"
    return "announced" if env.event_type in ("profile.created", "profile.identity_linked") else "identity"
