"""From a churn probability to what staff act on: risk level, days until churn, predicted churn date."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np

RISK_LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
HIGH_RISK = frozenset({"HIGH", "CRITICAL"})
MAX_DAYS = 730


def risk_level(p: float, thresholds: tuple[float, float, float]) -> str:
    medium, high, critical = thresholds
    if p >= critical:
        return "CRITICAL"
    if p >= high:
        return "HIGH"
    if p >= medium:
        return "MEDIUM"
    return "LOW"


def risk_levels(p: np.ndarray, thresholds: tuple[float, float, float]) -> np.ndarray:
    idx = np.searchsorted(np.asarray(thresholds), np.asarray(p, dtype=np.float64), side="right")
    return np.asarray(RISK_LEVELS, dtype=object)[idx]


def days_until_churn(p: float, horizon_days: int) -> int | None:
    """Median time to churn under a constant hazard that gives probability p within the horizon.

    P(churn by t) = 1 - exp(-lambda t) with lambda = -ln(1 - p) / H; the median is ln 2 / lambda. A member
    at p = 0.73 over 90 days gets ~48 days. Capped at two years; None when churn is not expected at all.
    """
    p = min(max(p, 0.0), 0.999)
    if p <= 0.001:
        return None
    hazard = -math.log(1.0 - p) / horizon_days
    return int(min(MAX_DAYS, max(1, round(math.log(2) / hazard))))


def predicted_churn_date(now: datetime, days: int | None) -> date | None:
    return (now + timedelta(days=days)).date() if days is not None else None
