"""Drift of the served churn model's inputs: the features of members scored in the last N days against the
distribution the champion was trained on (stored with the model version). Crossing the PSI threshold
announces ml.feature.drift_detected, once a day per feature and model version.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events import outbox, registry
from fairway_events.contracts.scoring import FeatureDriftDetected
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.drift.stats import drift_report
from fairway_ml_scoring.models.registry import CHAMPION
from fairway_ml_scoring.results.repository import AlertRepository, ScoreRepository

MIN_SAMPLE = 30


async def drift_for(session: AsyncSession, ctx: MlContext, tenant_id: str) -> list[dict[str, Any]]:
    assert ctx.churn_models is not None
    slot = await asyncio.to_thread(ctx.churn_models.ensure, tenant_id)
    champion = slot.served.get(CHAMPION)
    ref = champion.meta.get("reference") if champion is not None else None
    if not ref:
        return []
    since = ctx.now() - timedelta(days=ctx.settings.drift_window_days)
    rows = await ScoreRepository.for_tenant(session, tenant_id).recent_features(since)
    current = pd.DataFrame([r for r in rows if r])
    if len(current) < MIN_SAMPLE:
        return []
    return await asyncio.to_thread(drift_report, ref, current, ctx.settings.drift_psi_threshold)


async def check_drift(session: AsyncSession, ctx: MlContext, tenant_id: str) -> list[dict[str, Any]]:
    report = await drift_for(session, ctx, tenant_id)
    champion = ctx.churn_models.get(tenant_id) if ctx.churn_models else None
    alerts = AlertRepository.for_tenant(session, tenant_id)
    threshold = ctx.settings.drift_psi_threshold
    events = []
    for row in report:
        if not row["drifted"] or champion is None:
            continue
        if await alerts.raise_once(
            "feature_drift",
            f"churn-v{champion.version}:{row['feature']}",
            row["psi"],
            ctx.now(),
            86400,
        ):
            payload = FeatureDriftDetected(
                feature=row["feature"],
                statistic="PSI",
                value=row["psi"],
                threshold=threshold,
                modelName="churn",
            )
            events.append(
                registry.envelope(payload, tenant_id=tenant_id, aggregate_id="churn", source="ml-scoring")
            )
    await outbox.append_many(session, events)
    return report
