"""A member's send-time profile, or the pooled prior that stands in for it; and its announcement on crm.scoring
(`send_time.profile_updated`), which campaigns' dispatch turns into each recipient's best hour."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events import outbox, registry
from fairway_events.contracts.scoring import SendTimeProfileUpdated
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.features.repository import FeatureLogBatchRepository, FeatureLogRepository
from fairway_ml_scoring.sto.profile import OpenStats, confidence, default_stats, distribution, windows
from fairway_ml_scoring.sto.repository import Announced, SendTimeRepository

_POOL_TTL = 600.0
SOURCE = "ml-scoring"
SEND_TIME_CONFIDENCE_STEP = 0.05  # a smaller move in a member's confidence is not worth an event


async def _pool(
    repo: FeatureLogRepository, ctx: MlContext, tenant_id: str | None, segment: str | None
) -> tuple[OpenStats, float]:
    """Open-time stats pooled over a segment, a club, or every club (cached for ten minutes). Only counts
    per hour and weekday leave the pool: no member's data is exposed to another club."""
    key = (tenant_id, segment, ctx.settings.sto_timezone)
    hit = ctx.sto_pools.get(key)
    if hit and time.monotonic() - hit[0] < _POOL_TTL:
        return hit[1], hit[2]
    since = ctx.now() - timedelta(days=ctx.settings.sto_lookback_days)
    if tenant_id is None:
        times = await FeatureLogBatchRepository(repo.session).open_times_everywhere(since)
    else:
        times = await FeatureLogRepository.for_tenant(repo.session, tenant_id).open_times(since, segment=segment)
    stats = OpenStats.from_times(times, ctx.settings.sto_timezone)
    rate = 0.2  # pooled open rates are not tracked per pool; a neutral figure for expected open rates
    ctx.sto_pools[key] = (time.monotonic(), stats, rate)
    return stats, rate


async def _prior(
    repo: FeatureLogRepository, ctx: MlContext, tenant_id: str, segment: str | None
) -> tuple[OpenStats, str, float, float]:
    """The pooled prior a member below the minimum confidence gets: the first of their segment, their club, all
    clubs that is confident itself, else the default hour. (stats, source, confidence, open rate)"""
    s = ctx.settings
    candidates: list[tuple[str, str | None, str | None]] = []
    if segment:
        candidates.append(("SEGMENT", tenant_id, segment))
    candidates += [("TENANT", tenant_id, None), ("ALL_TENANTS", None, None)]
    for source, t, seg in candidates:
        stats, rate = await _pool(repo, ctx, t, seg)
        c = confidence(stats.n, s.sto_confidence_k)
        if c >= s.sto_min_confidence:
            return stats, source, c, rate
    return default_stats(), "DEFAULT", 0.0, 0.2


async def announce_send_times(
    session: AsyncSession, ctx: MlContext, tenant_id: str, subjects: Sequence[str], now: datetime
) -> int:
    """`send_time.profile_updated` (into the outbox, in the caller's transaction) for each member whose profile
    changed in what dispatch acts on since it was last announced. Returns the events appended.

    `confidence` is the member's own (their opens), not the prior's: dispatch trusts a profile of 0.3 or more and
    pools its club prior from those, so a member on a prior must not pass for a confident one."""
    if not subjects:
        return 0
    s = ctx.settings
    repo = FeatureLogRepository.for_tenant(session, tenant_id)
    since = now - timedelta(days=s.sto_lookback_days)
    opened = await repo.open_times_of(subjects, since)
    segments = await repo.segments_of(subjects)
    priors: dict[str | None, np.ndarray] = {}
    sources: dict[str | None, str] = {}
    store = SendTimeRepository.for_tenant(session, tenant_id)
    before = await store.announced(subjects)
    changed: dict[str, Announced] = {}
    events = []
    for subject in subjects:
        segment = segments.get(subject)
        if segment not in priors:
            prior, sources[segment], _, _ = await _prior(repo, ctx, tenant_id, segment)
            priors[segment] = distribution(prior.hours)
        own = OpenStats.from_times(opened.get(subject, []), s.sto_timezone)
        personal = confidence(own.n, s.sto_confidence_k)
        if personal >= s.sto_min_confidence:
            hourly, source = distribution(own.hours, priors[segment]), "PERSONAL"
        else:
            hourly, source = priors[segment], sources[segment]
        current = Announced(int(np.argmax(hourly)), source, round(personal, 4))
        old = before.get(subject)
        if old is not None and (old.best_hour, old.source) == (current.best_hour, current.source) and abs(
            old.confidence - current.confidence
        ) < SEND_TIME_CONFIDENCE_STEP:
            continue
        changed[subject] = current
        payload = SendTimeProfileUpdated(
            profileId=subject,
            hourlyOpenProbability=[round(float(v), 5) for v in hourly],
            timezone=s.sto_timezone,
            confidence=current.confidence,
            sampleSize=own.n,
            source=source,  # type: ignore[arg-type]
            updatedAt=now,
        )
        events.append(
            registry.envelope(payload, tenant_id=tenant_id, aggregate_id=subject, source=SOURCE, occurred_at=now)
        )
    await store.record(changed, now)
    await outbox.append_many(session, events)
    return len(events)


async def send_time_profile(
    session: AsyncSession, ctx: MlContext, tenant_id: str, subject: str
) -> dict[str, Any]:
    s = ctx.settings
    repo = FeatureLogRepository.for_tenant(session, tenant_id)
    now = ctx.now()
    since = now - timedelta(days=s.sto_lookback_days)
    own = OpenStats.from_times(await repo.open_times(since, subject_id=subject), s.sto_timezone)
    counts = await repo.message_counts(subject, since)
    sends = counts.get("email_sent", 0) + counts.get("push_sent", 0)
    opens = counts.get("email_opened", 0) + counts.get("push_opened", 0)
    open_rate = min(1.0, opens / sends) if sends else 0.0
    personal = confidence(own.n, s.sto_confidence_k)
    segment = await repo.segment_of(subject)
    prior, prior_source, prior_conf, prior_rate = await _prior(repo, ctx, tenant_id, segment)

    prior_hours = distribution(prior.hours)
    prior_days = distribution(prior.days)
    if personal >= s.sto_min_confidence:
        source, used_conf, reason = "PERSONAL", personal, None
        hourly = distribution(own.hours, prior_hours)
        daily = distribution(own.days, prior_days)
        rate = open_rate
    else:
        source, used_conf = prior_source, prior_conf
        reason = (
            f"{own.n} opens give confidence {personal:.2f}, below {s.sto_min_confidence:.2f}: "
            f"using the {prior_source.lower().replace('_', ' ')} prior"
        )
        hourly, daily = prior_hours, prior_days
        rate = open_rate if sends else prior_rate
    return {
        "customerId": subject,
        "source": source,
        "confidence": round(used_conf, 4),
        "personalConfidence": round(personal, 4),
        "sampleSize": own.n,
        "sends": sends,
        "openRate": round(open_rate, 4),
        "fallbackReason": reason,
        "segment": segment,
        "patterns": {
            "timezone": s.sto_timezone,
            "bestHourOfDay": int(np.argmax(hourly)),
            "bestDayOfWeek": int(np.argmax(daily)),
            "hourlyOpenProbability": [round(float(v), 5) for v in hourly],
            "dailyOpenProbability": [round(float(v), 5) for v in daily],
        },
        "optimalWindows": windows(hourly, rate),
        "lastUpdated": now.isoformat(),
    }
