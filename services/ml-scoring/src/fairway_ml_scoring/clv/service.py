"""Predicted CLV of one member: next 12 months with a monthly breakdown, and historical CLV."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import NotFound
from fairway_ml_scoring.churn.service import choose, probabilities
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.db import ml_scores
from fairway_ml_scoring.features.repository import FeatureLogRepository
from fairway_ml_scoring.features.transform import model_features

HEURISTIC_VERSION = "heuristic-v1"


def _month_labels(now: Any, months: int) -> list[str]:
    y, m = now.year, now.month
    out = []
    for _ in range(months):
        m += 1
        if m > 12:
            y, m = y + 1, 1
        out.append(f"{y:04d}-{m:02d}")
    return out


async def _segment(session: AsyncSession, tenant_id: str, value: float) -> str:
    """LOW / MEDIUM / HIGH / VERY_HIGH by where the value falls among the club's predicted CLVs."""
    col = ml_scores.c.predicted_clv
    total, below = (
        await session.execute(
            select(func.count(col), func.count(col).filter(col < value)).where(
                ml_scores.c.tenant_id == tenant_id
            )
        )
    ).one()
    if not total:
        return "UNKNOWN"
    share = below / total
    return "VERY_HIGH" if share >= 0.95 else "HIGH" if share >= 0.8 else "MEDIUM" if share >= 0.5 else "LOW"


async def predict_clv(session: AsyncSession, ctx: MlContext, tenant_id: str, subject: str) -> dict[str, Any]:
    repo = FeatureLogRepository.for_tenant(session, tenant_id)
    if not await repo.known_subject(subject):
        raise NotFound(f"no customer {subject!r} in this club")
    now = ctx.now()
    log_ = await repo.load([subject])
    raw = log_.rows([subject], [now])
    features = model_features(raw, np.array([now.timestamp()]))
    rfm = log_.rfm(until=now, subjects=[subject])
    assert ctx.clv_models is not None and ctx.churn_models is not None
    for cache in (ctx.clv_models, ctx.churn_models):
        if cache.peek(tenant_id) is None:
            await asyncio.to_thread(cache.ensure, tenant_id)
    model = ctx.clv_models.get(tenant_id)
    historical = float(raw["spend_all"].iloc[0])
    months = 12
    labels = _month_labels(now, months)
    fallback = None
    if model is not None:
        total = float(model.predict(rfm, features)[0])
        breakdown = model.monthly(rfm.iloc[0], total, months)
        row = rfm.iloc[0]
        p_alive = (
            float(model.bg.p_alive([row["frequency"]], [row["recency"]], [row["T"]])[0])
            if not np.isnan(row["T"])
            else None
        )
        source, version, kind = "MODEL", f"clv-v{model.version}", model.kind
    else:
        # No CLV model yet: last year's spend, kept at the churn model's retention odds, spread evenly.
        choice = choose(ctx, tenant_id)
        p_churn = float(
            probabilities(choice, features.to_numpy(dtype=np.float64), ctx.settings.churn_horizon_days)[0]
        )
        total = float(raw["spend_365d"].iloc[0]) * (1.0 - p_churn)
        breakdown = [
            {"expectedPurchases": None, "predictedSpend": total / months, "probability": 1.0 - p_churn}
            for _ in range(months)
        ]
        p_alive, source, version, kind = 1.0 - p_churn, "HEURISTIC", HEURISTIC_VERSION, "heuristic"
        fallback = {
            "used": True,
            "reason": "no CLV model is registered for this club: last year's spend x (1 - churn probability)",
        }
    segment = await _segment(session, tenant_id, total)
    actions = {
        "VERY_HIGH": [
            "Prioritise for personal service from the club manager",
            "Offer a premium membership tier",
        ],
        "HIGH": ["Invest in retention: invite to member events", "Offer a premium membership tier"],
        "MEDIUM": ["Encourage more rounds with off-peak tee-time offers"],
        "LOW": ["Keep to low-cost channels (email)"],
        "UNKNOWN": ["Score the club (fairway-ml score-all) to place this member"],
    }[segment]
    return {
        "customerId": subject,
        "historicalClv": round(historical, 2),
        "predictedClv": round(total, 2),
        "totalClv": round(historical + total, 2),
        "horizonMonths": months,
        "clvSegment": segment,
        "probabilityAlive": None if p_alive is None else round(p_alive, 4),
        "monthlyBreakdown": [
            {
                "month": m,
                "predictedSpend": round(float(b["predictedSpend"]), 2),
                "probability": round(float(b["probability"]), 4),
                "expectedPurchases": None
                if b["expectedPurchases"] is None
                else round(float(b["expectedPurchases"]), 4),
            }
            for m, b in zip(labels, breakdown, strict=True)
        ],
        "recommendations": {
            "maxAcquisitionCost": round(0.2 * total, 2),
            "maxRetentionSpend": round(0.1 * total, 2),
            "recommendedActions": actions,
        },
        "model": {"name": "clv", "version": version, "kind": kind, "source": source},
        "modelVersion": version,
        "fallback": fallback,
        "predictedAt": now.isoformat(),
        "validUntil": (now + timedelta(days=ctx.settings.prediction_validity_days)).isoformat(),
    }
