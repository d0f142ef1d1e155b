"""Feature drift statistics: PSI on the training distribution's quantile bins, and the two-sample KS test.

PSI = sum over bins of (cur - ref) * ln(cur / ref). Rule of thumb: < 0.1 stable, 0.1-0.2 moderate, > 0.2 a
shift worth a look (the default threshold).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

EPS = 1e-4


def _bin(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Proportions of values per bin; bins are (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    idx = np.searchsorted(edges, values, side="left")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(np.float64)
    return counts / max(1.0, counts.sum())


def reference(frame: pd.DataFrame, bins: int = 10, sample: int = 2000, seed: int = 7) -> dict[str, Any]:
    """What drift is measured against: per feature, quantile edges, bin proportions and a sample for KS."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for col in frame.columns:
        v = frame[col].to_numpy(dtype=np.float64)
        v = v[~np.isnan(v)]
        if not len(v):
            continue
        edges = np.unique(np.quantile(v, np.linspace(0, 1, bins + 1)[1:-1]))
        pick = v if len(v) <= sample else rng.choice(v, sample, replace=False)
        out[col] = {
            "edges": edges.tolist(),
            "proportions": _bin(v, edges).tolist(),
            "sample": pick.tolist(),
            "n": int(len(v)),
        }
    return out


def psi(ref_props: np.ndarray, cur_props: np.ndarray) -> float:
    r = np.clip(np.asarray(ref_props, dtype=np.float64), EPS, None)
    c = np.clip(np.asarray(cur_props, dtype=np.float64), EPS, None)
    return float(np.sum((c - r) * np.log(c / r)))


def feature_psi(ref: dict[str, Any], values: np.ndarray) -> float:
    edges = np.asarray(ref["edges"], dtype=np.float64)
    return psi(np.asarray(ref["proportions"]), _bin(np.asarray(values, dtype=np.float64), edges))


def feature_ks(ref: dict[str, Any], values: np.ndarray) -> tuple[float, float]:
    from scipy.stats import ks_2samp

    res = ks_2samp(np.asarray(ref["sample"], dtype=np.float64), np.asarray(values, dtype=np.float64))
    return float(res.statistic), float(res.pvalue)


def drift_report(ref: dict[str, Any], current: pd.DataFrame, threshold: float) -> list[dict[str, Any]]:
    """PSI and KS per feature present in both; `drifted` where PSI crosses the threshold."""
    out = []
    for col, entry in ref.items():
        if col not in current.columns:
            continue
        v = current[col].to_numpy(dtype=np.float64)
        v = v[~np.isnan(v)]
        if not len(v):
            continue
        value = feature_psi(entry, v)
        ks_stat, ks_p = feature_ks(entry, v)
        out.append(
            {
                "feature": col,
                "psi": round(value, 4),
                "ks": round(ks_stat, 4),
                "ksPValue": ks_p,
                "drifted": bool(value > threshold),
                "n": int(len(v)),
            }
        )
    return sorted(out, key=lambda r: r["psi"], reverse=True)
