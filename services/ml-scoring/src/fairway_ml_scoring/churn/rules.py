"""Rule-based churn risk: what answers when a club has no champion model yet (and says so).

The CS-ML architecture's fallback weighs health, activity recency and engagement. Here:
  p = 0.05 + 0.50 * recency risk + 0.25 * (1 - engagement / 100) + 0.15 * membership risk + 0.05 * complaints
recency risk = days since last activity / horizon (capped at 1; never active = 1), membership risk = 1 when
cancelled or expired, 0.5 when expiring within 30 days. Clipped to [0.01, 0.99].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

RULES_VERSION = "rules-v1"

# The factor groups each rule term explains, for top factors of a rule-based prediction.
RULE_TERMS = {"recency": 0.50, "engagement": 0.25, "membership": 0.15, "complaints": 0.05}


def rule_terms(features: Mapping[str, Any], horizon_days: int) -> dict[str, np.ndarray]:
    """features: columns by name (a DataFrame, or as_columns of a feature matrix)."""

    def col(name: str) -> np.ndarray:
        return np.atleast_1d(np.asarray(features[name], dtype=np.float64))

    recency = np.clip(col("days_since_last_activity") / float(horizon_days), 0, 1)
    engagement = 1.0 - np.clip(col("engagement_score") / 100.0, 0, 1)
    expiry = col("days_to_membership_expiry")
    cancelled = col("membership_cancelled") > 0.5
    membership = np.where(cancelled | (expiry < 0), 1.0, np.where(expiry <= 30, 0.5, 0.0))
    complaints = np.clip(col("complaints_365d") + col("unsubscribes_365d"), 0, 1)
    return {"recency": recency, "engagement": engagement, "membership": membership, "complaints": complaints}


def rule_probability(features: Mapping[str, Any], horizon_days: int) -> np.ndarray:
    terms = rule_terms(features, horizon_days)
    p = 0.05 + sum(RULE_TERMS[k] * terms[k] for k in RULE_TERMS)
    return np.clip(p, 0.01, 0.99)
