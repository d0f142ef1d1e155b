"""Upstream events -> activities, resolved through the key map in identity's priority order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from fairway_events import Envelope
from fairway_timeline.activities.catalogue import describe
from fairway_timeline.activities.records import NewActivity
from fairway_timeline.activities.repository import ActivityBatchRepository
from fairway_timeline.counters.repository import AFFECTS_COUNTERS
from fairway_timeline.identity_map.keys import key_hash, keys_from_hints
from fairway_timeline.identity_map.repository import ProfileBatchRepository
from fairway_timeline.ingest.touched import Touched
from fairway_timeline.settings import Settings

log = structlog.get_logger("fairway.timeline.ingest")
ACTIVITIES = Counter(
    "fairway_timeline_activities_total", "Upstream events turned into activities, by outcome", ["outcome"]
)


def draft(env: Envelope, settings: Settings) -> NewActivity | None:
    described = describe(env.event_type, env.payload.payload)
    if described is None:
        return None
    keys = keys_from_hints(env.payload.identity.model_dump(), settings.phone_region(env.tenant_id))
    if not keys:
        # Identity cannot resolve an event without a usable key either, so no profile will ever claim it.
        log.warning(
            "upstream event has no usable identity key; no activity",
            event_id=env.event_id,
            event_type=env.event_type,
            tenant_id=env.tenant_id,
        )
        ACTIVITIES.labels("no_key").inc()
        return None
    return NewActivity(
        id=uuid7(),
        tenant_id=env.tenant_id,
        type=described.kind.type,
        category=described.kind.category,
        title=described.title,
        source_service=env.source,
        source_event_id=env.event_id,
        occurred_at=env.occurred_at,
        payload=described.payload,
        counts=described.kind.counts,
        keys=keys,
    )


async def ingest(
    session: AsyncSession,
    envelopes: Sequence[Envelope],
    *,
    settings: Settings,
    now: datetime,
    touched: Touched,
) -> None:
    """Store a run of upstream events as activities with a handful of statements, whatever the run's size."""
    drafts: dict[tuple[str, str, str], NewActivity] = {}
    for env in envelopes:
        d = draft(env, settings)
        if d is not None:
            drafts.setdefault((d.tenant_id, d.source_service, d.source_event_id), d)
    if not drafts:
        return
    profiles = ProfileBatchRepository(session)
    rows = await _without_erased(profiles, list(drafts.values()))

    known = await profiles.lookup([(d.tenant_id, k.key_type, k.value) for d in rows for k in d.keys])
    for d in rows:
        # Keys are in identity's priority order: the first one identity has announced decides, as in identity.
        for k in d.keys:
            hit = known.get((d.tenant_id, k.key_type, k.value))
            if hit is not None:
                d.profile_id, d.resolved_key_id, d.resolved_rank = hit.profile_id, hit.id, k.rank
                break

    activities = ActivityBatchRepository(session)
    inserted = await activities.insert(rows, now)
    new = [d for d in rows if d.id in inserted]
    await activities.add_waits([(d.id, d.tenant_id, k) for d in new for k in d.waits], now)
    for d in new:
        if d.type in AFFECTS_COUNTERS:  # a delivery receipt or an SMS sent cannot move any counter
            touched.touch(d.tenant_id, d.profile_id)
    resolved = sum(1 for d in new if d.profile_id is not None)
    ACTIVITIES.labels("resolved").inc(resolved)
    ACTIVITIES.labels("pending").inc(len(new) - resolved)
    ACTIVITIES.labels("duplicate").inc(len(rows) - len(new))


async def _without_erased(profiles: ProfileBatchRepository, rows: list[NewActivity]) -> list[NewActivity]:
    """Drop events that happened before the erasure of the profile one of their keys belonged to: they are
    the erased person's history, arriving late."""
    hashes = {d.id: [(d.tenant_id, key_hash(d.tenant_id, k.key_type, k.value)) for k in d.keys] for d in rows}
    erased = await profiles.erased_at([h for hs in hashes.values() for h in hs])
    if not erased:
        return rows
    kept = []
    for d in rows:
        if any(erased.get(h) is not None and erased[h] >= d.occurred_at for h in hashes[d.id]):
            ACTIVITIES.labels("erased").inc()
            continue
        kept.append(d)
    return kept
