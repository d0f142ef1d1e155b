"""Engagement score 0-100: the implementation guide's weights and steps (section 10.1), vectorised.

recency .30 (days since last activity: <=7 100, <=14 80, <=30 60, <=60 40, <=90 20, else 0; never 0)
frequency .25 (activities in 30 days: >=20 100, >=10 80, >=5 60, >=2 40, >=1 20)
monetary .20 (lifetime value in cents: >=100000 100, >=50000 80, >=20000 60, >=10000 40, >=5000 20)
breadth .15 (25 per channel opted into: email, SMS, push, WhatsApp)
depth .10 (messages in 30 days: none sent 50, else round(open rate * 50 + click-per-open rate * 50))
"""

from __future__ import annotations

import functools

import numpy as np

WEIGHTS = {"recency": 0.30, "frequency": 0.25, "monetary": 0.20, "breadth": 0.15, "depth": 0.10}


def _js_round(x: np.ndarray) -> np.ndarray:
    """Math.round: halves go up (numpy rounds halves to even)."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


def _steps(value: np.ndarray, bounds: list[float], scores: list[float], *, upper: bool) -> np.ndarray:
    """Step function: the first bound the value is within (<= for upper bounds, >= for lower) gives its score."""
    b, sc = _tables(tuple(bounds), tuple(scores), upper)
    v = np.asarray(value, dtype=np.float64)
    # upper: bounds ascending, the index of the first bound >= value; lower: bounds descending, stored
    # negated, so the index counts the bounds the value does not reach.
    return sc[np.searchsorted(b, v if upper else -v, side="left")]


@functools.cache
def _tables(
    bounds: tuple[float, ...], scores: tuple[float, ...], upper: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Search and score arrays per step table, built once (serving scores one member at a time)."""
    b = np.asarray(bounds, dtype=np.float64)
    return (b if upper else -b), np.append(np.asarray(scores, dtype=np.float64), 0.0)


def components(
    *,
    days_since_last_activity: np.ndarray,
    activity_30d: np.ndarray,
    lifetime_value_cents: np.ndarray,
    consent: np.ndarray,
    sent_30d: np.ndarray,
    opened_30d: np.ndarray,
    clicked_30d: np.ndarray,
) -> dict[str, np.ndarray]:
    days = np.asarray(days_since_last_activity, dtype=np.float64)
    recency = _steps(
        np.where(np.isnan(days), np.inf, days), [7, 14, 30, 60, 90], [100, 80, 60, 40, 20], upper=True
    )
    frequency = _steps(
        np.asarray(activity_30d, dtype=np.float64), [20, 10, 5, 2, 1], [100, 80, 60, 40, 20], upper=False
    )
    monetary = _steps(
        np.asarray(lifetime_value_cents, dtype=np.float64),
        [100000, 50000, 20000, 10000, 5000],
        [100, 80, 60, 40, 20],
        upper=False,
    )
    breadth = (np.asarray(consent, dtype=np.float64) > 0.5).sum(axis=1) * 25.0
    sent = np.asarray(sent_30d, dtype=np.float64)
    opened = np.asarray(opened_30d, dtype=np.float64)
    clicked = np.asarray(clicked_30d, dtype=np.float64)
    # np.minimum/np.maximum rather than .clip: same values, a fraction of the call cost on one row
    open_rate = np.minimum(np.maximum(np.divide(opened, sent, out=np.zeros_like(sent), where=sent > 0), 0), 1)
    click_rate = np.minimum(np.maximum(clicked / np.maximum(opened, 1), 0), 1)
    depth = np.where(sent == 0, 50.0, _js_round(open_rate * 50 + click_rate * 50))
    return {
        "recency": recency,
        "frequency": frequency,
        "monetary": monetary,
        "breadth": breadth,
        "depth": depth,
    }


def combine(parts: dict[str, np.ndarray]) -> np.ndarray:
    total = sum(parts[k] * w for k, w in WEIGHTS.items())
    return np.minimum(np.maximum(_js_round(total), 0), 100)


def engagement_scores(**inputs: np.ndarray) -> np.ndarray:
    return combine(components(**inputs))
