"""Why a member is at risk: top factors with plain-language descriptions, and what staff can do about it.

Factors are feature GROUPS (recency, frequency, membership...), not single columns: 30/90/365-day counts
move together, and staff think in "hasn't played for a while", not in `activity_90d`. A group's impact is
measured by occlusion: the model scores the member again with that group's features set to a typical
member's values (the training medians); the drop in probability is what the group adds. This works for any
served ONNX model, including one a data scientist registered, without access to its internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fairway_ml_scoring.churn.rules import RULE_TERMS, rule_terms
from fairway_ml_scoring.features.transform import (
    FEATURE_GROUP,
    NEVER_DAYS,
    UNKNOWN_EXPIRY_DAYS,
    UNKNOWN_HANDICAP,
    as_row,
)

Row = Mapping[str, float]

GROUPS = (
    "recency",
    "frequency",
    "monetary",
    "cancellations",
    "membership",
    "handicap",
    "engagement",
    "consent",
    "complaints",
)
MAIN_FEATURE = {
    "recency": "days_since_last_activity",
    "frequency": "activity_90d",
    "monetary": "spend_90d",
    "cancellations": "cancellations_90d",
    "membership": "days_to_membership_expiry",
    "handicap": "handicap_trend_90d",
    "engagement": "email_open_rate_90d",
    "consent": "consent_breadth",
    "complaints": "complaints_365d",
}
ACTIONS = {
    "recency": "Send a personal 'we miss you' note with a tee-time offer in a quiet slot",
    "frequency": "Invite them to a members' social round or the next club competition",
    "monetary": "Offer a pro-shop or halfway-house voucher with their next booking",
    "cancellations": "Ask for feedback on the recent cancellations (course condition, tee-time availability)",
    "membership": "Call before the membership expires to talk through renewal options",
    "handicap": "Offer a lesson or clinic with the club professional",
    "engagement": "Reach them on another channel: emails go unopened",
    "consent": "Ask for their preferred contact channels at the next visit",
    "complaints": "Pause marketing sends and have the membership manager reach out personally",
}


def _num(row: Row, name: str) -> float:
    return float(row[name])


def describe(group: str, row: Row, baseline: dict[str, float] | None) -> str:
    b = baseline or {}

    def typical(name: str, fmt: str = "{:,.0f}") -> str:
        return f" (a typical member: {fmt.format(b[name])})" if name in b else ""

    if group == "recency":
        d = _num(row, "days_since_last_activity")
        if d >= NEVER_DAYS:
            return "No booking, round, purchase or payment on record"
        return f"{d:,.0f} days since the last booking, round or purchase" + typical(
            "days_since_last_activity"
        )
    if group == "frequency":
        n = _num(row, "activity_90d")
        trend = " and falling" if _num(row, "activity_trend") < -0.5 else ""
        return f"{n:,.0f} bookings, rounds or purchases in the last 90 days{trend}" + typical("activity_90d")
    if group == "monetary":
        return f"Spent {_num(row, 'spend_90d'):,.0f} in the last 90 days" + typical("spend_90d")
    if group == "cancellations":
        n = _num(row, "cancellations_90d")
        rate = _num(row, "cancellation_rate_365d")
        return f"{n:,.0f} booking cancellations in the last 90 days ({rate:.0%} of bookings this year)"
    if group == "membership":
        if _num(row, "membership_cancelled") > 0.5:
            return "The membership has been cancelled"
        d = _num(row, "days_to_membership_expiry")
        if d >= UNKNOWN_EXPIRY_DAYS:
            return "No membership on record"
        if d < 0:
            return f"The membership expired {-d:,.0f} days ago and has not been renewed"
        years = _num(row, "tenure_days") / 365.25
        if d <= 60:
            return f"The membership expires in {d:,.0f} days (member for {years:.1f} years)"
        return f"The membership runs for another {d:,.0f} days (member for {years:.1f} years)"
    if group == "handicap":
        if _num(row, "handicap") >= UNKNOWN_HANDICAP:
            return "No handicap on record"
        t = _num(row, "handicap_trend_90d")
        if t > 0.5:
            return f"Handicap rose {t:.1f} strokes in 90 days to {_num(row, 'handicap'):.1f}"
        if t < -0.5:
            return f"Handicap improved {-t:.1f} strokes in 90 days to {_num(row, 'handicap'):.1f}"
        return f"Handicap steady at {_num(row, 'handicap'):.1f}"
    if group == "engagement":
        if _num(row, "email_sends_90d") + _num(row, "push_sends_90d") == 0:
            return "No emails or notifications received in the last 90 days"
        return (
            f"Opened {_num(row, 'email_open_rate_90d'):.0%} of emails in the last 90 days"
            + typical("email_open_rate_90d", "{:.0%}")
            + f"; engagement score {_num(row, 'engagement_score'):.0f}"
        )
    if group == "consent":
        return f"Reachable on {_num(row, 'consent_breadth'):.0f} of 4 channels (email, SMS, push, WhatsApp)"
    if group == "complaints":
        return (
            f"{_num(row, 'unsubscribes_365d'):.0f} unsubscribes and {_num(row, 'complaints_365d'):.0f} "
            "complaints in the last year"
        )
    raise KeyError(group)


def _factor(
    group: str, contribution: float, share: float, row: Row, baseline: dict[str, float] | None
) -> dict[str, Any]:
    main = MAIN_FEATURE[group]
    return {
        "factor": group,
        "feature": main,
        "impact": round(share, 3),
        "contribution": round(contribution, 4),
        "direction": "increases_risk" if contribution >= 0 else "decreases_risk",
        "description": describe(group, row, baseline),
        "currentValue": round(float(row[main]), 3),
        "expectedValue": round(float(baseline[main]), 3) if baseline and main in baseline else None,
    }


def _rank(
    contrib: dict[str, float], row: Row, baseline: dict[str, float] | None, top_n: int
) -> list[dict[str, Any]]:
    total = sum(abs(v) for v in contrib.values()) or 1.0
    ranked = sorted(contrib.items(), key=lambda kv: kv[1], reverse=True)
    up = [(g, v) for g, v in ranked if v > 1e-4]
    chosen = up[:top_n] if up else sorted(contrib.items(), key=lambda kv: abs(kv[1]), reverse=True)[:top_n]
    return [_factor(g, v, abs(v) / total, row, baseline) for g, v in chosen]


def _groups(model: Any) -> tuple[list[str], np.ndarray]:
    """The factor groups among the model's inputs and a (groups x inputs) membership mask (computed once,
    kept on the loaded model)."""
    cached = getattr(model, "_factor_groups", None)
    if cached is None:
        feats = list(model.features)
        names = [g for g in GROUPS if any(FEATURE_GROUP[f] == g for f in feats)]
        mask = np.array([[FEATURE_GROUP[f] == g for f in feats] for g in names], dtype=bool).reshape(
            len(names), len(feats)
        )
        cached = (names, mask)
        model._factor_groups = cached
    return cached


def _baseline_vector(model: Any, baseline: dict[str, float]) -> np.ndarray:
    """The baseline as a vector of the model's inputs (NaN where it has no value); kept per baseline dict."""
    cached = getattr(model, "_baseline_vector", None)
    if cached is None or cached[0] is not baseline:
        cached = (baseline, np.array([baseline.get(f, np.nan) for f in model.features], dtype=np.float64))
        model._baseline_vector = cached
    return cached[1]


def score_with_contributions(
    model: Any, x: np.ndarray, baselines: list[dict[str, float] | None]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Scores of rows of model features (FEATURE_NAMES order) and each factor group's contribution, from ONE
    model run: every row is followed by its occluded copies (group set to the baseline's values).

    Returns (p: [n], contributions: [n, groups], group names). A row without a baseline gets no occlusion
    (its copies equal the row, contributions 0); callers show no factors for it. Rows are scored
    independently, so the result is the same as scoring each member alone.
    """
    own = np.atleast_2d(np.asarray(x, dtype=np.float64))[:, model.index]
    names, mask = _groups(model)
    base = own.copy()
    for i, b in enumerate(baselines):
        if b:
            vec = _baseline_vector(model, b)
            base[i] = np.where(np.isnan(vec), own[i], vec)
    occluded = np.where(mask[None, :, :], base[:, None, :], own[:, None, :])  # [n, groups, inputs]
    batch = np.concatenate([own[:, None, :], occluded], axis=1).reshape(-1, own.shape[1])
    p = model.run(batch).reshape(len(own), len(names) + 1)
    return p[:, 0], p[:, :1] - p[:, 1:], names


def factors_from_contributions(
    names: list[str], contrib: np.ndarray, row: Row, baseline: dict[str, float] | None, top_n: int = 5
) -> list[dict[str, Any]]:
    if not baseline:
        return []
    return _rank(dict(zip(names, contrib.tolist(), strict=True)), row, baseline, top_n)


def model_factors(
    model: Any, x: np.ndarray, baseline: dict[str, float] | None, top_n: int = 5
) -> list[dict[str, Any]]:
    """Top factors of one prediction by group occlusion against the baseline (a typical member).
    x: the member's model features (FEATURE_NAMES order)."""
    if not baseline:
        return []
    _, contrib, names = score_with_contributions(model, x, [baseline])
    return factors_from_contributions(names, contrib[0], as_row(np.asarray(x).reshape(-1)), baseline, top_n)


def rule_factors(
    x: np.ndarray, horizon_days: int, baseline: dict[str, float] | None = None, top_n: int = 5
) -> list[dict[str, Any]]:
    row = as_row(x)
    terms = rule_terms(row, horizon_days)
    contrib = {g: float(RULE_TERMS[g] * terms[g][0]) for g in RULE_TERMS}
    return _rank(contrib, row, baseline, top_n)


def recommended_actions(risk_level: str, factors: list[dict[str, Any]], row: Row) -> list[str]:
    if risk_level == "LOW":
        return ["No action needed: keep the regular club communication going"]
    out: list[str] = []
    if risk_level == "CRITICAL":
        out.append("Personal call from the club or membership manager this week")
    elif risk_level == "HIGH":
        out.append("Enrol in the retention journey")
    for f in factors:
        if f["direction"] != "increases_risk":
            continue
        g = f["factor"]
        if g == "membership" and float(row["membership_cancelled"]) > 0.5:
            out.append("Offer a win-back conversation with the membership manager")
        elif g == "membership" and float(row["days_to_membership_expiry"]) >= UNKNOWN_EXPIRY_DAYS:
            out.append("Invite them to join: a trial or social membership")
        else:
            out.append(ACTIONS[g])
        if len(out) >= 4:
            break
    if len(out) == (1 if risk_level in ("HIGH", "CRITICAL") else 0):
        out.append("Send a personalised re-engagement offer")
    return list(dict.fromkeys(out))
