"""A served CLV model: the BG/NBD + Gamma-Gamma baseline, or a learned regressor (ONNX) when it beat the
baseline on the holdout. Both give a 12-month total; the monthly shape always comes from BG/NBD.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairway_ml_scoring.clv.bgnbd import BgNbd, GammaGamma, monthly_breakdown
from fairway_ml_scoring.models.loaded import LoadedModel, ModelRejected, load_model

SERVED_DAYS = 365  # the API's predicted CLV is the next 12 months


@dataclass
class ClvModel:
    tenant_id: str
    version: str
    kind: str  # "bgnbd" | "learned"
    horizon_days: int
    bg: BgNbd
    gg: GammaGamma
    learned: LoadedModel | None = None

    def predict(self, rfm: pd.DataFrame, features: pd.DataFrame | None) -> np.ndarray:
        """Predicted spend over the next 12 months per row (rfm: frequency, recency, T, monetary; NaN = no
        purchases), whatever horizon the model was trained on: BG/NBD extrapolates to any horizon; the learned
        model's spend over its horizon is scaled to a year (a club with a short history trains a short horizon)."""
        if self.kind == "learned" and self.learned is not None and features is not None:
            spend = np.clip(np.expm1(self.learned.predict_frame(features)), 0, None)
            return spend * (SERVED_DAYS / self.horizon_days)
        return baseline_spend(self.bg, self.gg, rfm, SERVED_DAYS)

    def monthly(self, row: pd.Series, total: float, months: int = 12) -> list[dict[str, float]]:
        """Monthly breakdown scaled so the months add up to the model's total."""
        f, r, t, m = (
            float(np.nan_to_num(row.get(k, 0.0))) for k in ("frequency", "recency", "T", "monetary")
        )
        shape = monthly_breakdown(self.bg, self.gg, f, r, max(t, 0.0), m, months)
        s = sum(x["predictedSpend"] for x in shape)
        factor = total / s if s > 0 else 0.0
        return [{**x, "predictedSpend": x["predictedSpend"] * factor} for x in shape]


def baseline_spend(bg: BgNbd, gg: GammaGamma, rfm: pd.DataFrame, horizon_days: int) -> np.ndarray:
    known = rfm["T"].notna().to_numpy()
    f = rfm["frequency"].fillna(0).to_numpy(dtype=np.float64)
    r = rfm["recency"].fillna(0).to_numpy(dtype=np.float64)
    t = rfm["T"].fillna(0).clip(lower=0).to_numpy(dtype=np.float64)
    m = rfm["monetary"].fillna(0).to_numpy(dtype=np.float64)
    out = bg.expected(float(horizon_days), f, r, t) * gg.expected_spend(f, m)
    return np.where(known, out, 0.0)  # no purchase yet: BG/NBD says nothing about them


def load_clv_model(path: Path, tenant_id: str, version: str, tags: dict[str, str]) -> ClvModel:
    if tags.get("fairway.tenant") not in (None, tenant_id):
        raise ModelRejected(f"version {version} belongs to tenant {tags.get('fairway.tenant')!r}")
    spec_file = next(iter(sorted(path.rglob("clv_model.json"))), None)
    if spec_file is None:
        raise ModelRejected("no clv_model.json in the model version")
    spec: dict[str, Any] = json.loads(spec_file.read_text())
    learned = None
    if spec["kind"] == "learned":
        learned = load_model(
            spec_file.parent / "learned",
            tenant_id=tenant_id,
            model="clv",
            version=version,
            tags=tags,
            expect_probability=False,
        )
    return ClvModel(
        tenant_id=tenant_id,
        version=version,
        kind=spec["kind"],
        horizon_days=int(spec["horizon_days"]),
        bg=BgNbd(**spec["bgnbd"]),
        gg=GammaGamma(**spec["gamma_gamma"]),
        learned=learned,
    )
