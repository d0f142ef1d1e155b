"""CLV: the BG/NBD + Gamma-Gamma baseline against a learned regressor, compared on a time-based holdout; the
better one is registered as `clv` and served.

compare(cal_end, H): both models see only data at or before cal_end and predict spend in (cal_end, cal_end+H].
  training as of D: cal_end = D - H (the holdout), then the winner is refitted with data up to D;
  evaluating as of D: cal_end = D, scored against what customers really spent after D.
The learned model trains on snapshots t_k = cal_end - H - k*step (label windows end at or before cal_end),
on point-in-time features from Feast, with log1p(spend in the next H days) as target.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import structlog

from fairway_ml_scoring.churn.training import TrainingError, point_in_time_features
from fairway_ml_scoring.clv.bgnbd import BgNbd, GammaGamma
from fairway_ml_scoring.clv.model import baseline_spend
from fairway_ml_scoring.features.engine import EventLog
from fairway_ml_scoring.features.store import FeatureStoreGateway
from fairway_ml_scoring.features.transform import FEATURE_NAMES
from fairway_ml_scoring.models.artifacts import save_onnx_model
from fairway_ml_scoring.models.registry import CHAMPION, ModelRegistry
from fairway_ml_scoring.settings import Settings

log = structlog.get_logger("fairway.ml.clv")
MODEL = "clv"


@dataclass
class ClvComparison:
    calibration_end: str
    horizon_days: int
    customers: int
    actual_spend_total: float
    actual_purchases_total: float
    baseline_spend_total: float
    baseline_purchases_total: float
    baseline_mae_spend: float
    baseline_mae_purchases: float
    learned_spend_total: float | None = None
    learned_mae_spend: float | None = None
    learned_rows: int = 0
    winner: str = "bgnbd"
    notes: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _learned_dataset(
    features: FeatureStoreGateway, log_: EventLog, tenant_id: str, times: list[datetime], horizon: int
) -> tuple[pd.DataFrame, np.ndarray]:
    subjects: list[str] = []
    stamps: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for t in times:
        pop = log_.rfm(until=t)["subject"].astype(str).tolist()
        if not pop:
            continue
        subjects += pop
        stamps.append(np.full(len(pop), int(t.timestamp()), dtype=np.int64))
        targets.append(log_.window("spend", pop, t, horizon, total=True))
    if not subjects:
        return pd.DataFrame(columns=list(FEATURE_NAMES)), np.array([])
    X = point_in_time_features(features, tenant_id, subjects, np.concatenate(stamps))
    return X, np.concatenate(targets)


def fit_regressor(X: pd.DataFrame, spend: np.ndarray) -> tuple[Any, Any]:
    import lightgbm as lgb
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    reg = lgb.LGBMRegressor(
        n_estimators=200,
        learning_rate=0.05,
        num_leaves=15,
        min_child_samples=int(max(5, min(50, len(X) // 50))),
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=42,
        n_jobs=1,
        verbose=-1,
    )
    x = X[list(FEATURE_NAMES)].to_numpy(dtype=np.float32)
    reg.fit(x, np.log1p(np.clip(spend, 0, None)))
    onx = convert_lightgbm(
        reg, initial_types=[("input", FloatTensorType([None, len(FEATURE_NAMES)]))], target_opset=15
    )
    return reg, onx


def compare(
    *,
    features: FeatureStoreGateway,
    log_: EventLog,
    tenant_id: str,
    cal_end: datetime,
    horizon: int,
    settings: Settings,
) -> tuple[ClvComparison, BgNbd, GammaGamma, Any]:
    rfm = log_.rfm(until=cal_end)
    if len(rfm) < 10:
        raise TrainingError(f"only {len(rfm)} customers with purchases before {cal_end.date()} (need 10)")
    bg = BgNbd.fit(rfm["frequency"], rfm["recency"], rfm["T"])
    gg = GammaGamma.fit(rfm["frequency"], rfm["monetary"])
    subjects = rfm["subject"].astype(str).tolist()
    pred_n = bg.expected(float(horizon), rfm["frequency"], rfm["recency"], rfm["T"])
    pred_spend = baseline_spend(bg, gg, rfm, horizon)
    actual_spend = log_.window("spend", subjects, cal_end, horizon, total=True)
    after = log_.rfm(until=cal_end + timedelta(days=horizon), subjects=subjects)
    actual_n = (after["frequency"].fillna(0) - rfm["frequency"]).clip(lower=0).to_numpy(dtype=np.float64)
    cmp = ClvComparison(
        calibration_end=cal_end.date().isoformat(),
        horizon_days=horizon,
        customers=len(subjects),
        actual_spend_total=float(actual_spend.sum()),
        actual_purchases_total=float(actual_n.sum()),
        baseline_spend_total=float(pred_spend.sum()),
        baseline_purchases_total=float(pred_n.sum()),
        baseline_mae_spend=float(np.mean(np.abs(pred_spend - actual_spend))),
        baseline_mae_purchases=float(np.mean(np.abs(pred_n - actual_n))),
    )
    step = settings.churn_snapshot_step_days
    times = [cal_end - timedelta(days=horizon + k * step) for k in range(settings.churn_training_snapshots)]
    X, y = _learned_dataset(features, log_, tenant_id, times, horizon)
    cmp.learned_rows = len(X)
    learned = None
    if len(X) < settings.min_training_rows:
        cmp.notes.append(
            f"learned model skipped: {len(X)} training rows before {times[0].date()} "
            f"(need {settings.min_training_rows})"
        )
    else:
        reg, _ = fit_regressor(X, y)
        X_now = point_in_time_features(
            features, tenant_id, subjects, np.full(len(subjects), int(cal_end.timestamp()), dtype=np.int64)
        )
        learned_spend = np.clip(
            np.expm1(reg.predict(X_now[list(FEATURE_NAMES)].to_numpy(dtype=np.float32))), 0, None
        )
        cmp.learned_spend_total = float(learned_spend.sum())
        cmp.learned_mae_spend = float(np.mean(np.abs(learned_spend - actual_spend)))
        learned = reg
        if cmp.learned_mae_spend < cmp.baseline_mae_spend:
            cmp.winner = "learned"
    cmp.notes.append(f"winner: {cmp.winner} (lower mean absolute error of spend per customer on the holdout)")
    return cmp, bg, gg, learned


def train_clv(
    *,
    settings: Settings,
    registry: ModelRegistry,
    features: FeatureStoreGateway,
    log_: EventLog,
    tenant_id: str,
    as_of: datetime,
    horizon_days: int | None = None,
    register: bool = True,
) -> dict[str, Any]:
    horizon = horizon_days or settings.clv_horizon_days
    cmp, _, _, _ = compare(
        features=features,
        log_=log_,
        tenant_id=tenant_id,
        cal_end=as_of - timedelta(days=horizon),
        horizon=horizon,
        settings=settings,
    )
    # Refit the winner with everything up to the as-of date.
    rfm = log_.rfm(until=as_of)
    bg = BgNbd.fit(rfm["frequency"], rfm["recency"], rfm["T"])
    gg = GammaGamma.fit(rfm["frequency"], rfm["monetary"])
    onx = None
    if cmp.winner == "learned":
        step = settings.churn_snapshot_step_days
        times = [as_of - timedelta(days=horizon + k * step) for k in range(settings.churn_training_snapshots)]
        X, y = _learned_dataset(features, log_, tenant_id, times, horizon)
        _, onx = fit_regressor(X, y)
    report: dict[str, Any] = {
        "tenant": tenant_id,
        "model": MODEL,
        "asOf": as_of.isoformat(),
        "horizonDays": horizon,
        "comparison": cmp.public(),
        "kind": cmp.winner,
        "version": None,
        "promoted": False,
    }
    if not register:
        return report
    spec = {
        "kind": cmp.winner,
        "horizon_days": horizon,
        "bgnbd": bg.params(),
        "gamma_gamma": gg.params(),
        "as_of": as_of.isoformat(),
        "tenant": tenant_id,
    }
    metrics = {k: float(v) for k, v in cmp.public().items() if isinstance(v, int | float) and v is not None}
    tags = {"as_of": as_of.date().isoformat(), "horizon_days": str(horizon), "kind": cmp.winner}
    run_id = registry.start_run(tenant_id, MODEL, f"clv {as_of.date()} h{horizon}", tags)
    try:
        registry.log(
            run_id,
            params={
                "horizon_days": horizon,
                "as_of": as_of.isoformat(),
                "winner": cmp.winner,
                **{f"bgnbd_{k}": v for k, v in bg.params().items()},
                **{f"gg_{k}": v for k, v in gg.params().items()},
            },
            metrics=metrics,
        )
        registry.log_json(run_id, "comparison.json", cmp.public())
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "clv_model"
            root.mkdir()
            (root / "clv_model.json").write_text(json.dumps(spec))
            if onx is not None:
                _save_regressor(onx, root / "learned")
            registry.log_dir(run_id, root, "clv_model")
        version = registry.register(
            tenant_id,
            MODEL,
            run_id,
            "clv_model",
            tags=tags,
            description=f"CLV ({cmp.winner}) over {horizon} days as of {as_of.date()}",
        )
        registry.set_alias(tenant_id, MODEL, CHAMPION, version)
        registry.end_run(run_id)
    except Exception:
        registry.end_run(run_id, "FAILED")
        raise
    report.update(version=version, promoted=True, runId=run_id)
    log.info("clv model trained", tenant_id=tenant_id, version=version, kind=cmp.winner)
    return report


def _save_regressor(onx: Any, path: Path) -> None:
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    save_onnx_model(onx, path, ModelSignature(inputs=Schema([ColSpec("float", f) for f in FEATURE_NAMES])))
