"""Churn predictions: the document staff see (probability, risk level, days until churn, top factors in plain
language, recommended actions, model version, validity), stored, and checked against what really happened.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import NotFound
from fairway_events import new_event_id, outbox, registry
from fairway_events.contracts.scoring import ModelPerformanceDegraded
from fairway_ml_scoring.churn.explain import (
    factors_from_contributions,
    recommended_actions,
    rule_factors,
    score_with_contributions,
)
from fairway_ml_scoring.churn.risk import days_until_churn, predicted_churn_date, risk_level
from fairway_ml_scoring.churn.rules import RULES_VERSION, rule_probability
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.feature_fields import RAW_FIELDS
from fairway_ml_scoring.features.repository import FeatureLogRepository
from fairway_ml_scoring.features.transform import FEATURE_NAMES, as_columns, as_row, feature_matrix
from fairway_ml_scoring.models.loaded import LoadedModel
from fairway_ml_scoring.models.metrics import classification_metrics
from fairway_ml_scoring.models.registry import CHALLENGER, CHAMPION
from fairway_ml_scoring.results.repository import AlertRepository, PredictionRepository, ScoreRepository

MODEL = "churn"
_BASELINE_TTL = 600.0


@dataclass
class Choice:
    model: LoadedModel | None
    variant: str  # champion | challenger | rules
    reason: str | None = None

    @property
    def source(self) -> str:
        return "MODEL" if self.model is not None else "RULES"

    @property
    def version_label(self) -> str:
        return f"churn-v{self.model.version}" if self.model is not None else RULES_VERSION


def _bucket(tenant_id: str, subject: str) -> float:
    """A stable number in [0, 1) per member: the same member always sees the same variant."""
    digest = hashlib.sha256(f"{tenant_id}\x1f{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose(ctx: MlContext, tenant_id: str, subject: str | None = None) -> Choice:
    assert ctx.churn_models is not None
    slot = ctx.churn_models.peek(tenant_id)
    champion = slot.served.get(CHAMPION) if slot else None
    if champion is None:
        why = (
            slot.errors.get(CHAMPION) if slot else None
        ) or "no champion churn model is registered for this club"
        return Choice(None, "rules", f"rule-based estimate: {why}")
    challenger = slot.served.get(CHALLENGER) if slot else None
    traffic = ctx.settings.challenger_traffic
    if (
        subject is not None
        and challenger is not None
        and challenger.version != champion.version
        and traffic > 0
        and _bucket(tenant_id, subject) < traffic
    ):
        return Choice(challenger, "challenger")
    return Choice(champion, "champion")


def probabilities(choice: Choice, matrix: np.ndarray, horizon_days: int) -> np.ndarray:
    """Churn probability per row of model features (FEATURE_NAMES order)."""
    if choice.model is not None:
        return np.clip(choice.model.predict_matrix(matrix), 0.0, 1.0)
    return rule_probability(as_columns(matrix), horizon_days)


async def tenant_baseline(session: AsyncSession, ctx: MlContext, tenant_id: str) -> dict[str, float] | None:
    """A typical member of the club (median features of recently scored members), for explanations when the
    served model carries no baseline of its own."""
    hit = ctx.baselines.get(tenant_id)
    if hit and time.monotonic() - hit[0] < _BASELINE_TTL:
        return hit[1]
    rows = await ScoreRepository.for_tenant(session, tenant_id).recent_features(
        ctx.now() - timedelta(days=30), limit=5000
    )
    frame = pd.DataFrame([r for r in rows if r])
    baseline = None
    if not frame.empty:
        baseline = {c: float(v) for c, v in frame.median(numeric_only=True).items() if c in FEATURE_NAMES}
    ctx.baselines[tenant_id] = (time.monotonic(), baseline)
    return baseline


@dataclass
class PredictionInput:
    tenant_id: str
    subject: str
    features: np.ndarray  # model features, FEATURE_NAMES order
    choice: Choice
    baseline: dict[str, float] | None  # the club's typical member, when the model carries none
    now: datetime
    prediction_id: str | None = None


def prediction_document(
    ctx: MlContext,
    *,
    tenant_id: str,
    subject: str,
    features: np.ndarray,
    choice: Choice,
    baseline: dict[str, float] | None,
    now: datetime,
    prediction_id: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(API document, database row) for one member; `features`: their model features (FEATURE_NAMES order)."""
    return prediction_documents(
        ctx,
        [
            PredictionInput(
                tenant_id,
                subject,
                np.asarray(features, dtype=np.float64),
                choice,
                baseline,
                now,
                prediction_id,
            )
        ],
    )[0]


def prediction_documents(
    ctx: MlContext, items: list[PredictionInput]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(API document, database row) per member. Members served by the same model share one model run (their
    rows and the occluded copies that explain them), so a batch costs little more than one member."""
    s = ctx.settings
    if not items:
        return []
    matrix = np.vstack([i.features.reshape(1, -1) for i in items])
    p = np.empty(len(items))
    factors: list[list[dict[str, Any]]] = [[] for _ in items]
    rows = [as_row(x) for x in matrix]
    by_model: dict[int, list[int]] = {}
    for k, item in enumerate(items):
        by_model.setdefault(id(item.choice.model), []).append(k)
    for ks in by_model.values():
        model = items[ks[0]].choice.model
        if model is not None:
            bases = [model.baseline or items[k].baseline for k in ks]
            scores, contrib, names = score_with_contributions(model, matrix[ks], bases)
            p[ks] = np.clip(scores, 0.0, 1.0)
            for j, k in enumerate(ks):
                factors[k] = factors_from_contributions(names, contrib[j], rows[k], bases[j])
        else:
            horizon = s.churn_horizon_days
            p[ks] = rule_probability(as_columns(matrix[ks]), horizon)
            for k in ks:
                factors[k] = rule_factors(matrix[k], horizon, items[k].baseline)
    return [_document(ctx, item, float(p[k]), factors[k], rows[k]) for k, item in enumerate(items)]


def _document(
    ctx: MlContext, item: PredictionInput, p: float, factors: list[dict[str, Any]], row0: dict[str, float]
) -> tuple[dict[str, Any], dict[str, Any]]:
    s = ctx.settings
    choice, model, now = item.choice, item.choice.model, item.now
    horizon = int((model.horizon_days if model and model.horizon_days else None) or s.churn_horizon_days)
    level = risk_level(p, s.risk_thresholds)
    days = days_until_churn(p, horizon)
    churn_date = predicted_churn_date(now, days)
    actions = recommended_actions(level, factors, row0)
    pid = item.prediction_id or new_event_id()
    valid_until = now + timedelta(days=s.prediction_validity_days)
    feats = dict(zip(row0, np.round(item.features, 6).tolist(), strict=True))  # stored with the prediction
    doc = {
        "predictionId": pid,
        "customerId": item.subject,
        "churnProbability": round(p, 4),
        "riskLevel": level,
        "daysUntilChurn": days,
        "predictedChurnDate": churn_date.isoformat() if churn_date else None,
        "horizonDays": horizon,
        "topFactors": factors,
        "recommendedActions": actions,
        "modelVersion": choice.version_label,
        "model": {
            "name": MODEL,
            "version": model.version if model else RULES_VERSION,
            "variant": choice.variant,
            "source": choice.source,
        },
        "fallback": {"used": True, "reason": choice.reason} if model is None else None,
        "engagementScore": round(float(row0["engagement_score"])),
        "predictedAt": now.isoformat(),
        "validUntil": valid_until.isoformat(),
    }
    row = {
        "id": pid,
        "tenant_id": item.tenant_id,
        "subject_id": item.subject,
        "churn_probability": p,
        "risk_level": level,
        "days_until_churn": days,
        "predicted_churn_date": churn_date,
        "horizon_days": horizon,
        "top_factors": factors,
        "recommended_actions": actions,
        "model_name": MODEL,
        "model_version": choice.version_label,
        "variant": choice.variant,
        "source": choice.source,
        "fallback_reason": choice.reason,
        "features": feats,
        "predicted_at": now,
        "valid_until": valid_until,
    }
    return doc, row


def document_from_row(row: Any) -> dict[str, Any]:
    rules = row.source == "RULES"
    return {
        "predictionId": str(row.id),
        "customerId": row.subject_id,
        "churnProbability": round(row.churn_probability, 4),
        "riskLevel": row.risk_level,
        "daysUntilChurn": row.days_until_churn,
        "predictedChurnDate": row.predicted_churn_date.isoformat() if row.predicted_churn_date else None,
        "horizonDays": row.horizon_days,
        "topFactors": row.top_factors,
        "recommendedActions": row.recommended_actions,
        "modelVersion": row.model_version,
        "model": {
            "name": row.model_name,
            "version": row.model_version.removeprefix("churn-v"),
            "variant": row.variant,
            "source": row.source,
        },
        "fallback": {"used": True, "reason": row.fallback_reason} if rules else None,
        "engagementScore": round(row.engagement_score or 0.0),
        "predictedAt": row.predicted_at.isoformat(),
        "validUntil": row.valid_until.isoformat(),
        "actualOutcome": None
        if row.actual_churned is None
        else {
            "churned": row.actual_churned,
            "churnDate": row.actual_churn_date.isoformat() if row.actual_churn_date else None,
            "wasAccurate": row.was_accurate,
        },
    }


async def features_from_log(
    session: AsyncSession, ctx: MlContext, tenant_id: str, subject: str, now: datetime
) -> np.ndarray | None:
    """Model features of a member the online store has no row for yet (new store, lost store): computed from
    the event log, and pushed once the request's transaction commits. None: nobody by that id."""
    repo = FeatureLogRepository.for_tenant(session, tenant_id)
    if not await repo.known_subject(subject):
        return None
    log_ = await repo.load([subject])
    frame = log_.rows([subject], [now])
    ctx.after_commit(session, lambda: ctx.fs.push(tenant_id, [subject], frame, now))
    raw = frame[list(RAW_FIELDS)].to_numpy(dtype=np.float64)
    return feature_matrix(raw, np.array([now.timestamp()]))[0]


async def predict(ctx: MlContext, tenant_id: str, subject: str, refresh: bool = False) -> dict[str, Any]:
    """GET /churn/predict. The hot path holds no transaction and shares its work with concurrent requests:
    the batched read of the last prediction, the micro-batched online prediction, the group-committed insert. A unit of work is opened only to find
    the club's typical member (cached) or a member the online store has no row for."""
    now = ctx.now()
    assert ctx.churn_models is not None and ctx.churn_online is not None and ctx.prediction_writer is not None
    assert ctx.stored_predictions is not None
    if ctx.churn_models.peek(tenant_id) is None:
        await asyncio.to_thread(ctx.churn_models.ensure, tenant_id)
    choice = choose(ctx, tenant_id, subject)
    if not refresh:
        # A still-valid prediction by the same model, with no event about the member since, is the answer.
        last = await ctx.stored_predictions.latest_valid(tenant_id, subject, now)
        if last is not None and last.model_version == choice.version_label and not last.changed_since:
            return document_from_row(last)
    baseline = None
    if choice.model is None or not choice.model.baseline:
        async with ctx.session() as session:
            baseline = await tenant_baseline(session, ctx, tenant_id)
    result = await ctx.churn_online.predict(tenant_id, subject, choice, baseline, now)
    if result is None:
        async with ctx.session() as session, session.begin():  # commits, then pushes the row online
            features = await features_from_log(session, ctx, tenant_id, subject, now)
        if features is None:
            raise NotFound(f"no customer {subject!r} in this club")
        result = prediction_document(
            ctx,
            tenant_id=tenant_id,
            subject=subject,
            features=features,
            choice=choice,
            baseline=baseline,
            now=now,
        )
    doc, row = result
    await ctx.prediction_writer.add(row)
    return doc


async def record_actual(
    session: AsyncSession,
    ctx: MlContext,
    tenant_id: str,
    prediction_id: str,
    churned: bool,
    churn_date: date | None,
) -> dict[str, Any]:
    preds = PredictionRepository.for_tenant(session, tenant_id)
    row = await preds.get(prediction_id)
    if row is None:
        raise NotFound(f"no prediction {prediction_id!r} in this club")
    threshold = ctx.settings.decision_threshold
    was_accurate = (row.churn_probability >= threshold) == churned
    await preds.record_outcome(prediction_id, churned, churn_date, was_accurate, ctx.now())
    await check_degradation(session, ctx, tenant_id, row.model_version)
    row = await preds.get(prediction_id)
    return document_from_row(row)


def live_metrics(rows: list[Any], threshold: float) -> dict[str, dict[str, float]]:
    """Accuracy of each model version on the outcomes recorded so far."""
    by_version: dict[str, list[Any]] = {}
    for r in rows:
        by_version.setdefault(r.model_version, []).append(r)
    out = {}
    for version, rs in by_version.items():
        y = np.array([int(r.actual_churned) for r in rs])
        p = np.array([r.churn_probability for r in rs])
        m = classification_metrics(y, p, threshold)
        m["accuracy"] = float(((p >= threshold).astype(int) == y).mean())
        out[version] = {
            k: (None if isinstance(v, float) and np.isnan(v) else round(v, 4)) for k, v in m.items()
        }
    return out


async def check_degradation(
    session: AsyncSession, ctx: MlContext, tenant_id: str, version_label: str
) -> None:
    """Announce ml.model.performance_degraded when live AUC on recorded outcomes falls below the version's
    holdout AUC by more than the tolerance (once a day per version)."""
    if not version_label.startswith("churn-v"):
        return
    s = ctx.settings
    rows = [
        r
        for r in await PredictionRepository.for_tenant(session, tenant_id).outcomes(MODEL)
        if r.model_version == version_label
    ]
    if len(rows) < s.degradation_min_outcomes:
        return
    live = live_metrics(rows, s.decision_threshold)[version_label]
    auc = live.get("auc")
    version = version_label.removeprefix("churn-v")
    info = await asyncio.to_thread(ctx.reg.version, tenant_id, MODEL, version)
    expected = float(info.tags.get("holdout_auc", "nan")) if info else float("nan")
    if auc is None or np.isnan(expected):
        return
    threshold = expected - s.degradation_tolerance
    if auc < threshold and await AlertRepository.for_tenant(session, tenant_id).raise_once(
        "performance_degraded", version_label, auc, ctx.now(), 86400
    ):
        payload = ModelPerformanceDegraded(
            modelName=MODEL, version=version, metric="auc", value=float(auc), threshold=float(threshold)
        )
        await outbox.append(
            session, registry.envelope(payload, tenant_id=tenant_id, aggregate_id=MODEL, source="ml-scoring")
        )
