"""A member's send-time profile, or the pooled prior that stands in for it."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.features.repository import FeatureLogBatchRepository, FeatureLogRepository
from fairway_ml_scoring.sto.profile import OpenStats, confidence, default_stats, distribution, windows

_POOL_TTL = 600.0


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

    candidates: list[tuple[str, str | None, str | None]] = []
    if segment:
        candidates.append(("SEGMENT", tenant_id, segment))
    candidates += [("TENANT", tenant_id, None), ("ALL_TENANTS", None, None)]
    prior: OpenStats | None = None
    prior_source, prior_conf, prior_rate = "DEFAULT", 0.0, 0.2
    for source, t, seg in candidates:
        stats, rate = await _pool(repo, ctx, t, seg)
        c = confidence(stats.n, s.sto_confidence_k)
        if c >= s.sto_min_confidence:
            prior, prior_source, prior_conf, prior_rate = stats, source, c, rate
            break
    if prior is None:
        prior = default_stats()

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
