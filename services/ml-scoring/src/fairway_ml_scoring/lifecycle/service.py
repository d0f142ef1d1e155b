"""The model lifecycle: train, evaluate, list, promote (gated) and report performance. Shared by the API,
the background loops and the `fairway-ml` CLI; blocking work (Feast, MLflow, LightGBM) runs in threads.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fairway_chassis import Conflict, NotFound
from fairway_events import outbox, registry
from fairway_events.contracts.scoring import ModelDeployed, ModelTrainingCompleted
from fairway_ml_scoring.churn.rules import rule_probability
from fairway_ml_scoring.churn.service import live_metrics
from fairway_ml_scoring.churn.training import (
    TrainingError,
    TrainingReport,
    build_dataset,
    churn_labels,
    onnx_scores,
    point_in_time_features,
    population,
    train_churn,
)
from fairway_ml_scoring.clv.training import compare, train_clv
from fairway_ml_scoring.context import MlContext
from fairway_ml_scoring.drift.service import drift_for
from fairway_ml_scoring.features.engine import EventLog
from fairway_ml_scoring.features.repository import FeatureLogRepository
from fairway_ml_scoring.features.snapshots import replace_snapshots
from fairway_ml_scoring.features.transform import FEATURE_NAMES
from fairway_ml_scoring.models.cache import AliasChange, ModelCache
from fairway_ml_scoring.models.loaded import LoadedModel, ModelRejected, load_model
from fairway_ml_scoring.models.metrics import classification_metrics, gate
from fairway_ml_scoring.models.registry import CHALLENGER, CHAMPION, MODEL_KINDS
from fairway_ml_scoring.results.repository import PredictionRepository

SOURCE = "ml-scoring"
Sessions = async_sessionmaker[AsyncSession]


def _cache(ctx: MlContext, model: str) -> ModelCache:
    cache = ctx.churn_models if model == "churn" else ctx.clv_models
    assert cache is not None
    return cache


def check_model(model: str) -> None:
    if model not in MODEL_KINDS:
        raise NotFound(f"no model {model!r}: models are {', '.join(MODEL_KINDS)}")


async def export_features(sessions: Sessions, ctx: MlContext, tenant_id: str) -> EventLog:
    """Load the club's event log and refresh its rows of Feast's offline source."""
    async with sessions() as session, session.begin():
        log_ = await FeatureLogRepository.for_tenant(session, tenant_id).load()
        await replace_snapshots(session, tenant_id, log_, ctx.now())
    return log_


def deployed_events(changes: list[AliasChange]) -> list[Any]:
    return [
        registry.envelope(
            ModelDeployed(modelName=c.model, version=c.version, alias=c.alias, previousVersion=c.previous),
            tenant_id=c.tenant_id,
            aggregate_id=c.model,
            source=SOURCE,
        )
        for c in changes
        if c.version is not None
    ]


async def _history(sessions: Sessions, ctx: MlContext, tenant_id: str, model: str) -> EventLog:
    """What training and evaluation both start from: a known model and the club's freshly exported history."""
    check_model(model)
    return await export_features(sessions, ctx, tenant_id)


async def _train_churn(
    ctx: MlContext,
    log_: EventLog,
    tenant_id: str,
    as_of: datetime,
    horizon_days: int | None,
    label: str | None,
    *,
    champion: LoadedModel | None = None,
    register: bool = True,
) -> TrainingReport:
    return await asyncio.to_thread(
        train_churn,
        settings=ctx.settings,
        registry=ctx.reg,
        features=ctx.fs,
        log_=log_,
        tenant_id=tenant_id,
        as_of=as_of,
        horizon_days=horizon_days,
        label=label,
        champion=champion,
        register=register,
        now=ctx.now(),
    )


async def train(
    sessions: Sessions,
    ctx: MlContext,
    tenant_id: str,
    model: str,
    as_of: datetime,
    horizon_days: int | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    log_ = await _history(sessions, ctx, tenant_id, model)
    cache = _cache(ctx, model)
    slot = await asyncio.to_thread(cache.ensure, tenant_id)
    if model == "churn":
        report = await _train_churn(
            ctx, log_, tenant_id, as_of, horizon_days, label, champion=slot.served.get(CHAMPION)
        )
        out = report.public()
        metrics = {k: float(v) for k, v in report.metrics.items() if not np.isnan(v)}
        version = report.version
    else:
        out = await asyncio.to_thread(
            train_clv,
            settings=ctx.settings,
            registry=ctx.reg,
            features=ctx.fs,
            log_=log_,
            tenant_id=tenant_id,
            as_of=as_of,
            horizon_days=horizon_days,
        )
        metrics = {k: float(v) for k, v in out["comparison"].items() if isinstance(v, int | float)}
        version = out["version"]
    changes = await asyncio.to_thread(cache.refresh, tenant_id)
    async with sessions() as session, session.begin():
        events = [
            registry.envelope(
                ModelTrainingCompleted(modelName=model, version=str(version), metrics=metrics, asOf=as_of),
                tenant_id=tenant_id,
                aggregate_id=model,
                source=SOURCE,
            )
        ]
        await outbox.append(session, *events, *deployed_events(changes))
    return out


async def evaluate(
    sessions: Sessions,
    ctx: MlContext,
    tenant_id: str,
    model: str,
    as_of: datetime,
    horizon_days: int | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    """Train as of the date (not registered) and score it against what really happened after it."""
    log_ = await _history(sessions, ctx, tenant_id, model)
    s = ctx.settings
    if model == "clv":
        horizon = horizon_days or s.clv_horizon_days
        cmp, *_ = await asyncio.to_thread(
            compare,
            features=ctx.fs,
            log_=log_,
            tenant_id=tenant_id,
            cal_end=as_of,
            horizon=horizon,
            settings=s,
        )
        return {
            "tenant": tenant_id,
            "model": "clv",
            "asOf": as_of.isoformat(),
            "horizonDays": horizon,
            **cmp.public(),
        }
    horizon = horizon_days or s.churn_horizon_days
    label = label or s.churn_label
    report = await _train_churn(ctx, log_, tenant_id, as_of, horizon, label, register=False)

    def score() -> dict[str, Any]:
        pop = population(log_, as_of, s.population_lookback_days)
        if not pop:
            raise TrainingError(f"no customers at {as_of.date()}")
        stamps = np.full(len(pop), int(as_of.timestamp()), dtype=np.int64)
        X = point_in_time_features(ctx.fs, tenant_id, pop, stamps)
        y = churn_labels(log_, pop, as_of, horizon, label)
        p = onnx_scores(report.onnx, X[list(FEATURE_NAMES)].to_numpy(dtype=np.float32))
        m = classification_metrics(y, p, s.decision_threshold)
        rules = classification_metrics(y, rule_probability(X, horizon), s.decision_threshold)
        clean = {k: (None if np.isnan(v) else round(v, 4)) for k, v in m.items()}
        return {
            "tenant": tenant_id,
            "model": "churn",
            "asOf": as_of.isoformat(),
            "horizonDays": horizon,
            "label": label,
            "threshold": s.decision_threshold,
            "customers": len(pop),
            **clean,
            "rulesAuc": None if np.isnan(rules["auc"]) else round(rules["auc"], 4),
            "training": report.public(),
        }

    return await asyncio.to_thread(score)


async def list_models(ctx: MlContext, tenant_id: str, model_type: str | None) -> list[dict[str, Any]]:
    kinds = [model_type] if model_type else list(MODEL_KINDS)
    out = []
    for kind in kinds:
        check_model(kind)
        cache = _cache(ctx, kind)
        slot = await asyncio.to_thread(cache.ensure, tenant_id)
        versions = await asyncio.to_thread(ctx.reg.versions, tenant_id, kind, True)
        out.append(
            {
                "name": kind,
                "modelType": kind,
                "registeredName": ctx.reg.name(tenant_id, kind),
                "champion": await asyncio.to_thread(ctx.reg.alias_version, tenant_id, kind, CHAMPION),
                "challenger": await asyncio.to_thread(ctx.reg.alias_version, tenant_id, kind, CHALLENGER),
                "served": {alias: m.version for alias, m in slot.served.items()},
                "loadErrors": dict(slot.errors),
                "versions": [v.public() for v in versions],
            }
        )
    return out


async def _holdout_auc(
    sessions: Sessions,
    ctx: MlContext,
    tenant_id: str,
    candidate: LoadedModel,
    champion: LoadedModel | None,
    tags: dict[str, str],
) -> tuple[float, float | None, str]:
    s = ctx.settings
    horizon = int(tags.get("horizon_days") or candidate.horizon_days or s.churn_horizon_days)
    as_of = (
        datetime.fromisoformat(tags["as_of"]).replace(tzinfo=ctx.now().tzinfo)
        if tags.get("as_of")
        else ctx.now()
    )
    holdout = as_of - timedelta(days=horizon)
    log_ = await export_features(sessions, ctx, tenant_id)
    label = tags.get("label") or s.churn_label

    def run() -> tuple[float, float | None]:
        data = build_dataset(ctx.fs, log_, tenant_id, [holdout], horizon, label, s.population_lookback_days)
        if not len(data):
            raise Conflict(f"no customers at the holdout date {holdout.date()}: promotion cannot be checked")
        a = classification_metrics(data.y, candidate.predict_frame(data.X), s.decision_threshold)["auc"]
        b = (
            classification_metrics(data.y, champion.predict_frame(data.X), s.decision_threshold)["auc"]
            if champion
            else None
        )
        return a, b

    a, b = await asyncio.to_thread(run)
    return a, b, holdout.date().isoformat()


async def promote(
    sessions: Sessions,
    session: AsyncSession,
    ctx: MlContext,
    tenant_id: str,
    model: str,
    version: str,
    force: bool = False,
) -> dict[str, Any]:
    check_model(model)
    info = await asyncio.to_thread(ctx.reg.version, tenant_id, model, version)
    if info is None:
        raise NotFound(f"no version {version} of model {model!r} in this club")
    current = await asyncio.to_thread(ctx.reg.alias_version, tenant_id, model, CHAMPION)
    if current == str(version):
        return {"model": model, "version": str(version), "promoted": False, "reason": "already the champion"}
    rollback = info.tags.get("fairway.was_champion") == "true"
    decision = None
    if model == "churn" and not rollback and not force:
        cache = _cache(ctx, model)

        def load_candidate() -> LoadedModel:
            with tempfile.TemporaryDirectory() as tmp:
                path = ctx.reg.download(tenant_id, model, str(version), Path(tmp))
                return load_model(
                    path,
                    tenant_id=tenant_id,
                    model=model,
                    version=str(version),
                    tags=info.tags,
                    expect_probability=True,
                )

        try:
            candidate = await asyncio.to_thread(load_candidate)
        except ModelRejected as exc:
            raise Conflict(f"version {version} cannot be served: {exc}") from exc
        slot = await asyncio.to_thread(cache.ensure, tenant_id)
        champion = slot.served.get(CHAMPION)
        try:
            a, b, day = await _holdout_auc(sessions, ctx, tenant_id, candidate, champion, info.tags)
        except TrainingError as exc:
            raise Conflict(str(exc)) from exc
        decision = gate(a, b, floor=ctx.settings.auc_floor, min_improvement=ctx.settings.min_auc_improvement)
        if not decision.passed:
            raise Conflict(
                {
                    "message": f"version {version} is not promoted",
                    "holdoutDate": day,
                    "gate": decision.public(),
                }
            )
    await asyncio.to_thread(ctx.reg.set_alias, tenant_id, model, CHAMPION, str(version))
    await asyncio.to_thread(
        ctx.reg.set_version_tag, tenant_id, model, str(version), "fairway.was_champion", "true"
    )
    changes = await asyncio.to_thread(_cache(ctx, model).refresh, tenant_id)
    await outbox.append_many(session, deployed_events(changes))
    return {
        "model": model,
        "version": str(version),
        "promoted": True,
        "previousChampion": current,
        "reason": "rollback to a former champion" if rollback else ("forced" if force else "passed the gate"),
        "gate": decision.public() if decision else None,
    }


async def performance(session: AsyncSession, ctx: MlContext, tenant_id: str, model: str) -> dict[str, Any]:
    check_model(model)
    cache = _cache(ctx, model)
    slot = await asyncio.to_thread(cache.ensure, tenant_id)
    versions = await asyncio.to_thread(ctx.reg.versions, tenant_id, model, True)
    preds = PredictionRepository.for_tenant(session, tenant_id)
    live = (
        live_metrics(await preds.outcomes(model), ctx.settings.decision_threshold)
        if model == "churn"
        else {}
    )
    served = [
        {
            "modelVersion": r.model_version,
            "variant": r.variant,
            "predictions": int(r.n),
            "meanProbability": round(float(r.mean_probability), 4),
        }
        for r in await preds.counts_by_version(model, ctx.now() - timedelta(days=30))
    ]
    drift = await drift_for(session, ctx, tenant_id) if model == "churn" else []
    return {
        "name": model,
        "champion": slot.version(CHAMPION),
        "challenger": slot.version(CHALLENGER),
        "loadErrors": dict(slot.errors),
        "training": [
            {"version": v.version, "aliases": v.aliases, "metrics": v.metrics, "tags": v.tags}
            for v in versions
        ],
        "live": live,
        "predictionsLast30Days": served,
        "drift": drift,
    }
