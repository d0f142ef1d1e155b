"""Events that fill in campaign results: Messaging's delivery events (they carry the sendRequestId dispatch gave
the message), dispatch's later outcomes of held messages, upstream bookings and purchases (conversions), and
identity's key links, which tie those upstream events to profiles."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from fairway_campaigns.results import service
from fairway_campaigns.results.repository import STAMPS, ResultRepository
from fairway_events import Delivery, Dispatch, Envelope
from fairway_events.runs import runs

TOPICS = ["messaging.events", "crm.dispatch.outcomes", "teetime.events", "scl.events", "crm.identity"]
CONVERSIONS = ("teetime.booking.created", "teetime.purchase.completed", "scl.payment.received")

results = Dispatch()


@results.on(*STAMPS)
async def delivery_event(session: AsyncSession, env: Envelope) -> None:
    payload = env.payload.payload  # type: ignore[attr-defined]
    if payload.sendRequestId:  # not one of ours (a journey's): the update matches nothing
        await ResultRepository(session, env.tenant_id).stamp(payload.sendRequestId, STAMPS[env.event_type],
                                                             env.occurred_at)


@results.on("messaging.unsubscribed")
async def unsubscribed(session: AsyncSession, env: Envelope) -> None:
    await service.unsubscribed(session, env.tenant_id, service.keys_of(env.payload.identity),  # type: ignore[attr-defined]
                               env.occurred_at)


@results.on("dispatch.outcome")
async def dispatch_outcome(session: AsyncSession, env: Envelope) -> None:
    p = env.payload
    # A promotion's messages are recorded with campaigns' (campaign_messages), so its held ones' fate lands there too.
    if p.source.kind in ("CAMPAIGN", "PROMOTION"):  # type: ignore[attr-defined]
        await ResultRepository(session, env.tenant_id).set_outcome(p.requestId, p.outcome, p.reason, p.at)  # type: ignore[attr-defined]


@results.on("profile.created", "profile.identity_linked", "profile.merged", "profile.unmerged", "profile.erased")
async def identity(session: AsyncSession, env: Envelope) -> None:
    await service.identity_changed(session, env.tenant_id, env.payload)


HANDLED = results.types | set(CONVERSIONS)


async def handle(session: AsyncSession, deliveries: list[Delivery]) -> None:
    """The consumer: runs of conversions (a day's bookings and purchases) are attributed together, per tenant; the
    other events one by one, in order."""
    for kind, run in runs(deliveries, kind=lambda d: d.envelope.event_type in CONVERSIONS):
        if not kind:
            await results(session, run)
            continue
        by_tenant: dict[str, list[service.Conversion]] = {}
        for d in run:
            env = d.envelope
            data = env.payload.payload  # type: ignore[attr-defined]
            by_tenant.setdefault(env.tenant_id, []).append(service.Conversion(
                env.event_id, service.keys_of(env.payload.identity),  # type: ignore[attr-defined]
                Decimal(getattr(data, "amount", None) or 0), env.occurred_at))
        for tenant_id, events in by_tenant.items():
            await service.converted_many(session, tenant_id, events)
