"""Model metrics and the promotion gate."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def classification_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """AUC, precision and recall at the threshold, and calibration (Brier score, expected calibration error)."""
    from sklearn.metrics import brier_score_loss, precision_score, recall_score, roc_auc_score

    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=np.float64)
    pred = (p >= threshold).astype(int)
    out = {
        "n": float(len(y)),
        "positives": float(y.sum()),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "brier": float(brier_score_loss(y, p)) if len(y) else float("nan"),
        "ece": expected_calibration_error(y, p),
        "mean_prediction": float(p.mean()) if len(p) else float("nan"),
    }
    out["auc"] = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    if not len(y):
        return float("nan")
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    err = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            err += m.mean() * abs(p[m].mean() - y[m].mean())
    return float(err)


def calibration_curve(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    return [
        {
            "bin": b,
            "from": float(edges[b]),
            "to": float(edges[b + 1]),
            "n": int((idx == b).sum()),
            "predicted": float(p[idx == b].mean()),
            "observed": float(np.asarray(y)[idx == b].mean()),
        }
        for b in range(bins)
        if (idx == b).any()
    ]


@dataclass
class Gate:
    passed: bool
    challenger_auc: float
    champion_auc: float | None
    floor: float
    reasons: list[str] = field(default_factory=list)

    def public(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "challengerAuc": _round(self.challenger_auc),
            "championAuc": _round(self.champion_auc),
            "aucFloor": self.floor,
            "reasons": self.reasons,
        }


def _round(v: float | None) -> float | None:
    return None if v is None or np.isnan(v) else round(float(v), 4)


def gate(
    challenger_auc: float, champion_auc: float | None, *, floor: float, min_improvement: float = 0.0
) -> Gate:
    """A challenger becomes champion only if it clears the AUC floor AND beats the champion on the same
    time-based holdout."""
    reasons = []
    ok = True
    if np.isnan(challenger_auc):
        return Gate(
            False, challenger_auc, champion_auc, floor, ["the holdout has a single class: AUC undefined"]
        )
    if challenger_auc < floor:
        ok = False
        reasons.append(f"holdout AUC {challenger_auc:.3f} is below the floor {floor:.3f}")
    if champion_auc is not None and not np.isnan(champion_auc):
        if challenger_auc <= champion_auc + min_improvement:
            ok = False
            reasons.append(
                f"holdout AUC {challenger_auc:.3f} does not beat the champion's {champion_auc:.3f}"
                + (f" by {min_improvement:.3f}" if min_improvement else "")
            )
    if ok:
        reasons.append(
            f"holdout AUC {challenger_auc:.3f} clears the floor {floor:.3f}"
            + (
                f" and beats the champion's {champion_auc:.3f}"
                if champion_auc is not None
                else "; there is no champion yet"
            )
        )
    return Gate(ok, challenger_auc, champion_auc, floor, reasons)
