"""Training a churn model as of a date: point-in-time features from Feast, a configurable label, LightGBM,
ONNX export, MLflow logging and registration as `challenger`, and the gate to `champion`.

Time layout for `as_of` = D and horizon H (nothing after D is used):
  holdout snapshot   t_h = D - H       labels from (t_h, D]
  training snapshots t_k = t_h - H - k * step, k = 0..n-1; their label windows end at or before t_h,
  so no training label peeks into the holdout period.
At each snapshot the population is who is still a customer: activity within the lookback (365 days by
default) and no cancelled membership. Features as of t come from Feast's historical retrieval over the
change-point rows exported from the event log (the caller exports first: features/snapshots.py).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import structlog

from fairway_ml_scoring.drift.stats import reference
from fairway_ml_scoring.features.engine import DAY, EventLog
from fairway_ml_scoring.features.store import FeatureStoreGateway
from fairway_ml_scoring.features.transform import FEATURE_NAMES, model_features
from fairway_ml_scoring.models.artifacts import save_onnx_model
from fairway_ml_scoring.models.loaded import LoadedModel
from fairway_ml_scoring.models.metrics import Gate, calibration_curve, classification_metrics, gate
from fairway_ml_scoring.models.registry import CHALLENGER, CHAMPION, ModelRegistry
from fairway_ml_scoring.settings import Settings

log = structlog.get_logger("fairway.ml.training")
MODEL = "churn"


class TrainingError(ValueError):
    """Training cannot run on this data (too little history, one class only...)."""


@dataclass
class Dataset:
    subjects: list[str]
    as_of: np.ndarray  # epoch seconds per row
    X: pd.DataFrame
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.subjects)


@dataclass
class TrainingReport:
    tenant_id: str
    model: str
    as_of: datetime
    horizon_days: int
    label: str
    version: str | None
    run_id: str | None
    metrics: dict[str, float]
    gate: Gate | None
    promoted: bool
    n_train: int
    n_holdout: int
    snapshots: list[str] = field(default_factory=list)
    champion_version: str | None = None
    onnx: Any = None  # the exported graph (evaluation scores with it without registering)

    def public(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id,
            "model": self.model,
            "asOf": self.as_of.isoformat(),
            "horizonDays": self.horizon_days,
            "label": self.label,
            "version": self.version,
            "runId": self.run_id,
            "metrics": {
                k: (None if isinstance(v, float) and np.isnan(v) else round(v, 4))
                for k, v in self.metrics.items()
            },
            "gate": self.gate.public() if self.gate else None,
            "promoted": self.promoted,
            "trainingRows": self.n_train,
            "holdoutRows": self.n_holdout,
            "snapshots": self.snapshots,
            "previousChampion": self.champion_version,
        }


# -- data ----------------------------------------------------------------------------------------------
def population(log_: EventLog, at: datetime, lookback_days: int) -> list[str]:
    """Customers at `at`: active within the lookback and not cancelled."""
    subjects = [str(s) for s in log_.subjects]
    if not subjects:
        return []
    raw = log_.rows(subjects, [at] * len(subjects))
    last = raw["last_activity_ts"].to_numpy()
    active = (last >= at.timestamp() - lookback_days * DAY) & (raw["membership_cancelled"].to_numpy() < 0.5)
    return [s for s, a in zip(subjects, active, strict=True) if a]


def churn_labels(
    log_: EventLog, subjects: list[str], at: np.ndarray | datetime, horizon_days: int, label: str
) -> np.ndarray:
    inactive = log_.window("activity", subjects, at, horizon_days) == 0
    cancelled = log_.window("membership_cancelled", subjects, at, horizon_days) > 0
    if label == "inactivity":
        return inactive.astype(int)
    if label == "membership_cancelled":
        return cancelled.astype(int)
    return (inactive | cancelled).astype(int)


def snapshot_times(
    as_of: datetime, horizon_days: int, n: int, step_days: int
) -> tuple[list[datetime], datetime]:
    holdout = as_of - timedelta(days=horizon_days)
    first = holdout - timedelta(days=horizon_days)
    return [first - timedelta(days=k * step_days) for k in range(n)], holdout


def point_in_time_features(
    features: FeatureStoreGateway, tenant_id: str, subjects: list[str], as_of_seconds: np.ndarray
) -> pd.DataFrame:
    """Model features for (subject, as-of) pairs through Feast's historical retrieval."""
    times = pd.to_datetime(as_of_seconds, unit="s", utc=True)
    raw = features.historical(tenant_id, subjects, times)
    return model_features(raw, as_of_seconds)


def build_dataset(
    features: FeatureStoreGateway,
    log_: EventLog,
    tenant_id: str,
    times: list[datetime],
    horizon_days: int,
    label: str,
    lookback_days: int,
) -> Dataset:
    subjects: list[str] = []
    stamps: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for t in times:
        pop = population(log_, t, lookback_days)
        if not pop:
            continue
        subjects += pop
        stamps.append(np.full(len(pop), int(t.timestamp()), dtype=np.int64))
        labels.append(churn_labels(log_, pop, t, horizon_days, label))
    if not subjects:
        return Dataset(
            [], np.array([], dtype=np.int64), pd.DataFrame(columns=list(FEATURE_NAMES)), np.array([])
        )
    as_of = np.concatenate(stamps)
    X = point_in_time_features(features, tenant_id, subjects, as_of)
    return Dataset(subjects, as_of, X, np.concatenate(labels))


# -- model -----------------------------------------------------------------------------------------------
def _lgbm_params(n_rows: int) -> dict[str, Any]:
    return {
        "n_estimators": 200,
        "learning_rate": 0.05,
        "num_leaves": 15,
        "max_depth": -1,
        "min_child_samples": int(max(5, min(50, n_rows // 50))),
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "random_state": 42,
        "n_jobs": 1,
        "verbose": -1,
    }


def fit_classifier(X: pd.DataFrame, y: np.ndarray) -> tuple[Any, Any, dict[str, Any]]:
    """LightGBM on the features, and its ONNX graph (checked to score like the booster)."""
    import lightgbm as lgb
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    params = _lgbm_params(len(X))
    clf = lgb.LGBMClassifier(**params)
    x = X[list(FEATURE_NAMES)].to_numpy(dtype=np.float32)
    clf.fit(x, y)
    onx = convert_lightgbm(
        clf,
        initial_types=[("input", FloatTensorType([None, len(FEATURE_NAMES)]))],
        zipmap=False,
        target_opset=15,
    )
    check = onnx_scores(onx, x[: min(len(x), 500)])
    expect = clf.predict_proba(x[: min(len(x), 500)])[:, 1]
    if np.max(np.abs(check - expect)) > 1e-3:
        raise TrainingError("the ONNX export does not reproduce the model's scores")
    return clf, onx, params


def onnx_scores(onx: Any, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.asarray(sess.run(["probabilities"], {"input": x.astype(np.float32)})[0])[:, 1].astype(
        np.float64
    )


def save_model_dir(onx: Any, path: Path, meta: dict[str, Any]) -> None:
    """An MLflow ONNX model folder: MLmodel with a column signature (the feature list, in input order)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema, TensorSpec

    signature = ModelSignature(
        inputs=Schema([ColSpec("float", f) for f in FEATURE_NAMES]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, 2), "probabilities")]),
    )
    save_onnx_model(onx, path, signature)
    (path / "fairway.json").write_text(json.dumps(meta, default=str))


# -- the whole run -----------------------------------------------------------------------------------------
def train_churn(
    *,
    settings: Settings,
    registry: ModelRegistry,
    features: FeatureStoreGateway,
    log_: EventLog,
    tenant_id: str,
    as_of: datetime,
    horizon_days: int | None = None,
    label: str | None = None,
    champion: LoadedModel | None = None,
    register: bool = True,
    now: datetime | None = None,
    auto_promote: bool | None = None,
) -> TrainingReport:
    horizon = horizon_days or settings.churn_horizon_days
    label = label or settings.churn_label
    now = now or datetime.now(UTC)
    if as_of > now:
        raise TrainingError("as-of date is in the future: the labels after it have not happened yet")
    started = time.monotonic()
    train_times, holdout_time = snapshot_times(
        as_of, horizon, settings.churn_training_snapshots, settings.churn_snapshot_step_days
    )
    lookback = settings.population_lookback_days
    train = build_dataset(features, log_, tenant_id, train_times, horizon, label, lookback)
    holdout = build_dataset(features, log_, tenant_id, [holdout_time], horizon, label, lookback)
    if len(train) < settings.min_training_rows:
        raise TrainingError(
            f"only {len(train)} training rows before {train_times[0].date()} (need {settings.min_training_rows}): "
            f"with a {horizon}-day horizon, training as of {as_of.date()} needs customers active before "
            f"{train_times[-1].date()}; choose a later as-of date or a shorter horizon"
        )
    if len(set(train.y.tolist())) < 2:
        raise TrainingError(f"every training row has label {int(train.y[0])}: nothing to learn")
    if not len(holdout):
        raise TrainingError(f"no customers at the holdout date {holdout_time.date()}")
    clf, onx, params = fit_classifier(train.X, train.y)
    threshold = settings.decision_threshold
    x_hold = holdout.X[list(FEATURE_NAMES)].to_numpy(dtype=np.float32)
    p_hold = onnx_scores(onx, x_hold)
    p_train = onnx_scores(onx, train.X[list(FEATURE_NAMES)].to_numpy(dtype=np.float32))
    m_hold = classification_metrics(holdout.y, p_hold, threshold)
    m_train = classification_metrics(train.y, p_train, threshold)
    metrics = {f"holdout_{k}": v for k, v in m_hold.items()}
    metrics.update(
        {
            "train_auc": m_train["auc"],
            "train_rows": float(len(train)),
            "train_base_rate": m_train["base_rate"],
        }
    )
    champion_auc = None
    if champion is not None:
        p_champ = champion.predict_frame(holdout.X)
        champion_auc = classification_metrics(holdout.y, p_champ, threshold)["auc"]
        metrics["champion_holdout_auc"] = champion_auc
    decision = gate(
        m_hold["auc"], champion_auc, floor=settings.auc_floor, min_improvement=settings.min_auc_improvement
    )
    metrics["training_seconds"] = time.monotonic() - started
    report = TrainingReport(
        tenant_id=tenant_id,
        model=MODEL,
        as_of=as_of,
        horizon_days=horizon,
        label=label,
        version=None,
        run_id=None,
        metrics=metrics,
        gate=decision,
        promoted=False,
        n_train=len(train),
        n_holdout=len(holdout),
        snapshots=[t.date().isoformat() for t in train_times]
        + [f"holdout {holdout_time.date().isoformat()}"],
        champion_version=champion.version if champion else None,
        onnx=onx,
    )
    if not register:
        return report
    baseline = {f: float(v) for f, v in train.X[list(FEATURE_NAMES)].median().items()}
    meta = {
        "model": MODEL,
        "tenant": tenant_id,
        "features": list(FEATURE_NAMES),
        "baseline": baseline,
        "threshold": threshold,
        "horizon_days": horizon,
        "label": label,
        "as_of": as_of.isoformat(),
        "holdout_date": holdout_time.isoformat(),
        "reference": reference(train.X[list(FEATURE_NAMES)]),
    }
    tags = {"as_of": as_of.date().isoformat(), "horizon_days": str(horizon), "label": label}
    run_id = registry.start_run(tenant_id, MODEL, f"churn {as_of.date()} h{horizon}", tags)
    try:
        registry.log(
            run_id,
            params={
                **params,
                "features": ",".join(FEATURE_NAMES),
                "label": label,
                "horizon_days": horizon,
                "as_of": as_of.isoformat(),
                "snapshots": ";".join(report.snapshots),
                "lookback_days": lookback,
                "decision_threshold": threshold,
            },
            metrics={k: v for k, v in metrics.items() if not np.isnan(v)},
        )
        registry.log_json(run_id, "calibration.json", calibration_curve(holdout.y, p_hold))
        registry.log_json(
            run_id,
            "feature_importance.json",
            dict(
                sorted(
                    zip(
                        FEATURE_NAMES, (int(v) for v in clf.booster_.feature_importance("gain")), strict=True
                    ),
                    key=lambda kv: -kv[1],
                )
            ),
        )
        registry.log_json(run_id, "features.json", list(FEATURE_NAMES))
        with tempfile.TemporaryDirectory() as tmp:
            model_dir = Path(tmp) / "model"
            save_model_dir(onx, model_dir, meta)
            registry.log_dir(run_id, model_dir, "model")
        version = registry.register(
            tenant_id,
            MODEL,
            run_id,
            "model",
            tags={
                **tags,
                "holdout_auc": f"{m_hold['auc']:.4f}",
                "gate": "passed" if decision.passed else "failed",
            },
            description=f"LightGBM churn ({label}, {horizon} days) as of {as_of.date()}; "
            f"holdout AUC {m_hold['auc']:.3f}",
        )
        registry.set_alias(tenant_id, MODEL, CHALLENGER, version)
        report.version, report.run_id = version, run_id
        if decision.passed and (settings.auto_promote if auto_promote is None else auto_promote):
            registry.set_alias(tenant_id, MODEL, CHAMPION, version)
            registry.set_version_tag(tenant_id, MODEL, version, "fairway.was_champion", "true")
            report.promoted = True
        registry.end_run(run_id)
    except Exception:
        registry.end_run(run_id, "FAILED")
        raise
    log.info(
        "churn model trained",
        tenant_id=tenant_id,
        version=report.version,
        promoted=report.promoted,
        holdout_auc=m_hold["auc"],
        rows=len(train),
    )
    return report
