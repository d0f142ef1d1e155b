"""Scores of members as of now: engagement, churn risk and predicted CLV, stored and announced on crm.scoring
when they change (score.updated), with ml.churn.high_risk_detected when a member crosses into HIGH/CRITICAL, and
their send-time profiles (send_time.profile_updated, sto/).

Used by the consumer for the members a batch of events touched, and by the batch job for everyone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_events import outbox, registry
from fairway_events.contracts.scoring import ChurnHighRiskDetected, Factor, ScoreUpdated
from fairway_ml_scoring.churn.risk import HIGH_RISK, risk_levels
from fairway_ml_scoring.churn.service import (
    PredictionInput,
    choose,
    prediction_documents,
    probabilities,
    tenant_baseline,
)
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.db import ml_profiles
from fairway_ml_scoring.features.engine import EventLog
from fairway_ml_scoring.features.repository import FeatureLogRepository
from fairway_ml_scoring.features.transform import FEATURE_NAMES, model_features
from fairway_ml_scoring.results.repository import PredictionRepository, ScoreRepository
from fairway_ml_scoring.sto.service import announce_send_times

SOURCE = "ml-scoring"


async def ensure_models(ctx: MlContext, tenant_id: str) -> None:
    for cache in (ctx.churn_models, ctx.clv_models):
        if cache is not None and cache.peek(tenant_id) is None:
            await asyncio.to_thread(cache.ensure, tenant_id)


def clv_predictions(
    ctx: MlContext,
    tenant_id: str,
    log_: EventLog,
    subjects: Sequence[str],
    features: pd.DataFrame,
    now: datetime,
) -> np.ndarray | None:
    model = ctx.clv_models.get(tenant_id) if ctx.clv_models else None
    if model is None:
        return None
    rfm = log_.rfm(until=now, subjects=subjects)
    return model.predict(rfm, features)


async def _profiles(session: AsyncSession, tenant_id: str, subjects: Sequence[str]) -> set[str]:
    """Subjects identity announced as active profiles (a provisional subject is nobody the rest of Fairway
    knows)."""
    rows = await session.execute(
        select(ml_profiles.c.profile_id).where(
            ml_profiles.c.tenant_id == tenant_id,
            ml_profiles.c.profile_id.in_(list(subjects)),
            ml_profiles.c.status == "ACTIVE",
        )
    )
    return {r.profile_id for r in rows}


async def refresh_scores(
    session: AsyncSession,
    ctx: MlContext,
    tenant_id: str,
    subjects: Sequence[str],
    *,
    now: datetime | None = None,
    push: bool = True,
) -> int:
    """Recompute and store the scores of some members from their event log; returns events announced.
    Only profiles are scored: events identity has not resolved yet wait (in the log, for training too) until it
    announces whose they are, so no API or crm.scoring event ever names a key hash instead of a customer."""
    subjects = sorted(await _profiles(session, tenant_id, set(subjects))) if subjects else []
    if not subjects:
        return 0
    now = now or ctx.now()
    log_ = await FeatureLogRepository.for_tenant(session, tenant_id).load(subjects)
    raw = log_.rows(subjects, [now] * len(subjects))
    features = model_features(raw, np.full(len(subjects), now.timestamp()))
    await ensure_models(ctx, tenant_id)
    announced = await apply_scores(session, ctx, tenant_id, subjects, features, log_, now)
    # Opens move send times as events move scores: the same members, the same transaction.
    announced += await announce_send_times(session, ctx, tenant_id, subjects, now)
    if push:
        ctx.after_commit(session, lambda: ctx.fs.push(tenant_id, subjects, raw, now))
    return announced


def _clv_changed(old: float | None, new: float | None) -> bool:
    if old is None or new is None:
        return old != new
    return abs(new - old) >= max(1.0, 0.01 * abs(old))


async def apply_scores(
    session: AsyncSession,
    ctx: MlContext,
    tenant_id: str,
    subjects: list[str],  # profiles only (see refresh_scores)
    features: pd.DataFrame,
    log_: EventLog,
    now: datetime,
) -> int:
    s = ctx.settings
    choice = choose(
        ctx, tenant_id
    )  # scores use the champion; the traffic split applies to served predictions
    horizon = int(
        (choice.model.horizon_days if choice.model and choice.model.horizon_days else None)
        or s.churn_horizon_days
    )
    matrix = features[list(FEATURE_NAMES)].to_numpy(dtype=np.float64)
    p = probabilities(choice, matrix, horizon)
    levels = risk_levels(p, s.risk_thresholds)
    engagement = features["engagement_score"].to_numpy()
    clv = clv_predictions(ctx, tenant_id, log_, subjects, features, now)
    scores = ScoreRepository.for_tenant(session, tenant_id)
    previous = await scores.get_many(subjects)
    version = choice.version_label
    values = features[list(FEATURE_NAMES)].round(6).to_dict("records")
    rows: list[dict[str, Any]] = []
    events = []
    high_risk: list[int] = []
    for i, subject in enumerate(subjects):
        clv_i = None if clv is None else round(float(clv[i]), 2)
        rows.append(
            {
                "tenant_id": tenant_id,
                "subject_id": subject,
                "engagement_score": float(engagement[i]),
                "churn_probability": float(p[i]),
                "risk_level": str(levels[i]),
                "predicted_clv": clv_i,
                "model_version": version,
                "features": values[i],
                "scored_at": now,
            }
        )
        old = previous.get(subject)
        changed = (
            old is None
            or round(old.engagement_score) != round(float(engagement[i]))
            or round(old.churn_probability * 100) != round(float(p[i]) * 100)
            or old.risk_level != levels[i]
            or old.model_version != version
            or _clv_changed(old.predicted_clv, clv_i)
        )
        if changed:
            payload = ScoreUpdated(
                profileId=subject,
                engagementScore=float(engagement[i]),
                churnRiskScore=round(float(p[i]) * 100, 2),
                riskLevel=str(levels[i]),
                predictedClv=clv_i,
                modelVersion=version,
            )
            events.append(
                registry.envelope(
                    payload, tenant_id=tenant_id, aggregate_id=subject, source=SOURCE, occurred_at=now
                )
            )
        if levels[i] in HIGH_RISK and (old is None or old.risk_level not in HIGH_RISK):
            high_risk.append(i)
    await scores.upsert(rows)
    if high_risk:
        baseline = (
            None if choice.model and choice.model.baseline else await tenant_baseline(session, ctx, tenant_id)
        )
        documents = prediction_documents(
            ctx,
            [PredictionInput(tenant_id, subjects[i], matrix[i], choice, baseline, now) for i in high_risk],
        )
        await PredictionRepository.for_tenant(session, tenant_id).add_many([row for _, row in documents])
        for i, (doc, row) in zip(high_risk, documents, strict=True):
            payload = ChurnHighRiskDetected(
                profileId=subjects[i],
                predictionId=doc["predictionId"],
                churnProbability=doc["churnProbability"],
                riskLevel=doc["riskLevel"],
                daysUntilChurn=doc["daysUntilChurn"],
                topFactors=[
                    Factor(feature=f["factor"], impact=f["impact"], description=f["description"])
                    for f in doc["topFactors"]
                ],
                modelVersion=version,
                predictedChurnDate=row["predicted_churn_date"],
            )
            events.append(
                registry.envelope(
                    payload, tenant_id=tenant_id, aggregate_id=subjects[i], source=SOURCE, occurred_at=now
                )
            )
    await outbox.append_many(session, events)
    return len(events)
