"""Recompute counters, publish the ones that changed, and sweep windows as time passes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import structlog
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_chassis import Clock
from fairway_events import outbox, registry
from fairway_events.contracts.timeline import TimelineCountersUpdated
from fairway_timeline.activities.repository import ActivityBatchRepository
from fairway_timeline.counters.repository import EMPTY, CountersBatchRepository, ProfileRef
from fairway_timeline.identity_map.repository import ProfileBatchRepository
from fairway_timeline.locks import lock_tenants

log = structlog.get_logger("fairway.timeline.counters")
PENDING = Gauge(
    "fairway_timeline_pending_activities",
    "Activities waiting for identity to announce one of their keys (seen by the last sweep)",
)
SWEEP_BATCH = 1000


async def refresh(session: AsyncSession, refs: Iterable[ProfileRef], now: datetime) -> int:
    """Recompute the counters of `refs`; store and publish (in this transaction) those that changed.

    Returns how many counter events were appended to the outbox.
    """
    ordered = sorted(set(refs))
    if not ordered:
        return 0
    repo = CountersBatchRepository(session)
    computed = await repo.compute(ordered, now)
    stored = await repo.stored(ordered)
    changed, unchanged, events = [], [], []
    for ref in ordered:
        comp = computed[ref]
        before = stored.get(ref)
        if before == comp.values or (before is None and comp.values == EMPTY):
            if before is not None:
                unchanged.append((ref, comp.next_change_at))
            continue
        changed.append((ref, comp))
        tenant_id, profile_id = ref
        payload = TimelineCountersUpdated.model_validate(
            {**comp.values, "profileId": profile_id, "asOf": now}
        )
        events.append(
            registry.envelope(
                payload, tenant_id=tenant_id, aggregate_id=profile_id, source="timeline", occurred_at=now
            )
        )
    await repo.save(changed, now)
    await repo.reschedule(unchanged)
    await outbox.append_many(session, events)
    return len(events)


async def drop(session: AsyncSession, refs: Iterable[ProfileRef]) -> None:
    """Forget the counters of profiles that no longer exist on their own (merged away, erased)."""
    await CountersBatchRepository(session).delete(sorted(set(refs)))


async def sweep_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    pending_ttl: timedelta,
    erased_key_retention: timedelta,
) -> int:
    """Republish counters whose rolling windows changed since they were computed; purge expired data."""
    now = clock.now()
    published = 0
    async with sessionmaker() as session:
        tenants = await CountersBatchRepository(session).due_tenants(now)
    for tenant_id in tenants:
        while True:
            async with sessionmaker() as session, session.begin():
                await lock_tenants(session, [tenant_id])
                due = await CountersBatchRepository(session).due_profiles(tenant_id, now, SWEEP_BATCH)
                published += await refresh(session, due, now)
            if len(due) < SWEEP_BATCH:
                break
    async with sessionmaker() as session, session.begin():
        # No tenant lock needed: the delete re-checks `profile_id IS NULL` against a concurrent attach.
        purged = await ActivityBatchRepository(session).purge_pending(now - pending_ttl)
        PENDING.set(await ActivityBatchRepository(session).pending_count())
        await ProfileBatchRepository(session).purge_erased(now - erased_key_retention)
    if purged:
        log.info("purged pending activities whose keys identity never announced", count=purged)
    if published:
        log.info("republished counters whose windows moved", count=published)
    return published

