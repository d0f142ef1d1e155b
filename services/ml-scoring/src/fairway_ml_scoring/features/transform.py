"""Model features from raw feature rows and their as-of time: one function for training, serving and batch,
so what a model learned on is exactly what it is served (no training/serving skew).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairway_ml_scoring.feature_fields import RAW_FIELDS
from fairway_ml_scoring.features.engagement import engagement_scores
from fairway_ml_scoring.features.engine import DAY

NEVER_DAYS = 1000.0  # "days since" for something that never happened
UNKNOWN_EXPIRY_DAYS = 1000.0
UNKNOWN_HANDICAP = 99.0


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    group: str  # the factor a feature belongs to when predictions are explained
    description: str


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "days_since_last_activity", "recency", "days since the last booking, round, purchase or payment"
    ),
    FeatureSpec("days_since_last_booking", "recency", "days since the last tee-time booking"),
    FeatureSpec("days_since_last_round", "recency", "days since the last round played"),
    FeatureSpec("days_since_last_purchase", "recency", "days since the last purchase or payment"),
    FeatureSpec("activity_30d", "frequency", "bookings, rounds, purchases and payments in 30 days"),
    FeatureSpec("activity_90d", "frequency", "bookings, rounds, purchases and payments in 90 days"),
    FeatureSpec("activity_365d", "frequency", "bookings, rounds, purchases and payments in 365 days"),
    FeatureSpec(
        "activity_trend", "frequency", "activity in the last 30 days minus the 90-day monthly average"
    ),
    FeatureSpec("bookings_30d", "frequency", "bookings in 30 days"),
    FeatureSpec("bookings_90d", "frequency", "bookings in 90 days"),
    FeatureSpec("bookings_365d", "frequency", "bookings in 365 days"),
    FeatureSpec("rounds_30d", "frequency", "rounds in 30 days"),
    FeatureSpec("rounds_90d", "frequency", "rounds in 90 days"),
    FeatureSpec("rounds_365d", "frequency", "rounds in 365 days"),
    FeatureSpec("purchases_90d", "monetary", "purchases and payments in 90 days"),
    FeatureSpec("purchases_365d", "monetary", "purchases and payments in 365 days"),
    FeatureSpec("spend_30d", "monetary", "spend in 30 days"),
    FeatureSpec("spend_90d", "monetary", "spend in 90 days"),
    FeatureSpec("spend_365d", "monetary", "spend in 365 days"),
    FeatureSpec("lifetime_spend", "monetary", "spend since the first event"),
    FeatureSpec("payments_365d", "monetary", "SCL payments in 365 days"),
    FeatureSpec("payment_amount_365d", "monetary", "SCL payment amount in 365 days"),
    FeatureSpec("cancellations_90d", "cancellations", "booking cancellations in 90 days"),
    FeatureSpec("cancellation_rate_365d", "cancellations", "share of bookings cancelled in 365 days"),
    FeatureSpec("tenure_days", "membership", "days since joining (member since, else first activity)"),
    FeatureSpec(
        "days_to_membership_expiry", "membership", "days until the membership expires (negative: expired)"
    ),
    FeatureSpec("is_member", "membership", "1 if a membership is on record and not cancelled"),
    FeatureSpec("membership_cancelled", "membership", "1 if the membership was cancelled"),
    FeatureSpec("handicap", "handicap", "latest handicap index"),
    FeatureSpec("handicap_trend_90d", "handicap", "handicap change over 90 days (positive: getting worse)"),
    FeatureSpec("email_sends_30d", "engagement", "emails sent in 30 days"),
    FeatureSpec("email_sends_90d", "engagement", "emails sent in 90 days"),
    FeatureSpec("email_opens_90d", "engagement", "emails opened in 90 days"),
    FeatureSpec("email_clicks_90d", "engagement", "emails clicked in 90 days"),
    FeatureSpec("email_open_rate_90d", "engagement", "opens per email sent in 90 days"),
    FeatureSpec("email_click_rate_90d", "engagement", "clicks per email opened in 90 days"),
    FeatureSpec("sms_sends_90d", "engagement", "SMS sent in 90 days"),
    FeatureSpec("push_sends_90d", "engagement", "push notifications sent in 90 days"),
    FeatureSpec("push_opens_90d", "engagement", "push notifications opened in 90 days"),
    FeatureSpec("push_open_rate_90d", "engagement", "opens per push sent in 90 days"),
    FeatureSpec("email_bounces_90d", "engagement", "bounced emails in 90 days"),
    FeatureSpec("consent_breadth", "consent", "channels the member opted into (email, SMS, push, WhatsApp)"),
    FeatureSpec("unsubscribes_365d", "complaints", "unsubscribes in 365 days"),
    FeatureSpec("complaints_365d", "complaints", "complaints (spam reports) in 365 days"),
    FeatureSpec("engagement_score", "engagement", "engagement score 0-100"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURE_GROUP = {f.name: f.group for f in FEATURES}
BY_NAME = {f.name: f for f in FEATURES}
FEATURE_INDEX = {f: i for i, f in enumerate(FEATURE_NAMES)}


def as_columns(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Name-based access to a feature matrix (rules and descriptions read features by name)."""
    m = np.atleast_2d(matrix)
    return {f: m[:, i] for f, i in FEATURE_INDEX.items()}


def as_row(vector: np.ndarray) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, np.asarray(vector, dtype=np.float64).tolist(), strict=True))


_R = {f: i for i, f in enumerate(RAW_FIELDS)}
_F = {f: i for i, f in enumerate(FEATURE_NAMES)}
_COUNTS = (
    "activity_30d",
    "activity_90d",
    "activity_365d",
    "bookings_30d",
    "bookings_90d",
    "bookings_365d",
    "rounds_30d",
    "rounds_90d",
    "rounds_365d",
    "purchases_90d",
    "purchases_365d",
    "spend_30d",
    "spend_90d",
    "spend_365d",
    "payments_365d",
    "payment_amount_365d",
    "cancellations_90d",
    "unsubscribes_365d",
    "complaints_365d",
)
_RENAMED = {
    "email_sends_30d": "email_sent_30d",
    "email_sends_90d": "email_sent_90d",
    "email_opens_90d": "email_opened_90d",
    "email_clicks_90d": "email_clicked_90d",
    "sms_sends_90d": "sms_sent_90d",
    "push_sends_90d": "push_sent_90d",
    "push_opens_90d": "push_opened_90d",
    "email_bounces_90d": "email_bounced_90d",
    "lifetime_spend": "spend_all",
    "membership_cancelled": "membership_cancelled",
}


_SINCE = {
    "days_since_last_activity": "last_activity_ts",
    "days_since_last_booking": "last_booking_ts",
    "days_since_last_round": "last_round_ts",
    "days_since_last_purchase": "last_purchase_ts",
}
_SINCE_OUT = [_F[k] for k in _SINCE]
_SINCE_RAW = [_R[v] for v in _SINCE.values()]
_COPY = {**{c: c for c in _COUNTS}, **_RENAMED}
_COPY_OUT = [_F[k] for k in _COPY]
_COPY_RAW = [_R[v] for v in _COPY.values()]
_RATES = {
    "email_open_rate_90d": ("email_opened_90d", "email_sent_90d"),
    "email_click_rate_90d": ("email_clicked_90d", "email_opened_90d"),
    "push_open_rate_90d": ("push_opened_90d", "push_sent_90d"),
    "cancellation_rate_365d": ("cancellations_365d", "bookings_365d"),
}
_RATE_OUT = [_F[k] for k in _RATES]
_RATE_NUM = [_R[n] for n, _ in _RATES.values()]
_RATE_DEN = [_R[d] for _, d in _RATES.values()]


def _clip(x: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    """np.clip's values (NaN stays NaN) for a fraction of its call cost, which dominates on one row."""
    if lo is not None:
        x = np.maximum(x, lo)
    return np.minimum(x, hi) if hi is not None else x


def _rate(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return _clip(np.divide(num, den, out=np.zeros_like(num), where=den > 0), 0, 1)


_CONSENT_RAW = [_R[c] for c in ("consent_email", "consent_sms", "consent_push", "consent_whatsapp")]
_SENT_30D_RAW = [_R[c] for c in ("email_sent_30d", "sms_sent_30d", "push_sent_30d")]
_OPENED_30D_RAW = [_R[c] for c in ("email_opened_30d", "push_opened_30d")]


def feature_matrix(raw: np.ndarray, as_of_seconds: np.ndarray) -> np.ndarray:
    """Model features (FEATURE_NAMES columns, float64, no NaN) from raw rows (RAW_FIELDS columns) as of the
    given times (one per row, or one for all). Plain numpy: serving calls this per request (a few rows), training
    and batch scoring on millions of rows; on a few rows the cost is the number of numpy calls, so columns are
    handled in groups."""
    raw = np.atleast_2d(np.asarray(raw, dtype=np.float64))
    now = np.asarray(as_of_seconds, dtype=np.float64).reshape(-1)
    if len(now) != len(raw):
        now = np.broadcast_to(now, (len(raw),))
    nan = np.isnan(raw)
    filled = np.where(nan, 0.0, raw)  # one pass, not one nan_to_num per column

    def col(name: str) -> np.ndarray:
        return raw[:, _R[name]]

    def zero(name: str) -> np.ndarray:
        return filled[:, _R[name]]

    out = np.empty((len(raw), len(FEATURE_NAMES)))

    def put(name: str, values: np.ndarray) -> None:
        out[:, _F[name]] = values

    since = (now[:, None] - raw[:, _SINCE_RAW]) / DAY
    out[:, _SINCE_OUT] = np.where(nan[:, _SINCE_RAW], NEVER_DAYS, _clip(since, 0, NEVER_DAYS))
    out[:, _COPY_OUT] = filled[:, _COPY_RAW]
    put("activity_trend", zero("activity_30d") - zero("activity_90d") / 3.0)
    member_since = col("member_since_ts")
    joined = np.where(np.isnan(member_since), col("first_activity_ts"), member_since)
    put("tenure_days", np.where(np.isnan(joined), 0.0, _clip((now - joined) / DAY, 0, None)))
    expiry = col("membership_expiry_ts")
    expiry_unknown = np.isnan(expiry)
    put(
        "days_to_membership_expiry",
        np.where(
            expiry_unknown,
            UNKNOWN_EXPIRY_DAYS,
            _clip((expiry - now) / DAY, -UNKNOWN_EXPIRY_DAYS, UNKNOWN_EXPIRY_DAYS),
        ),
    )
    on_record = ~(expiry_unknown & np.isnan(member_since))
    put("is_member", (on_record & (zero("membership_cancelled") < 0.5)).astype(np.float64))
    hc, hc_old = col("handicap_latest"), col("handicap_90d_ago")
    hc_unknown = np.isnan(hc)
    put("handicap", np.where(hc_unknown, UNKNOWN_HANDICAP, hc))
    put("handicap_trend_90d", np.where(hc_unknown | np.isnan(hc_old), 0.0, hc - hc_old))
    out[:, _RATE_OUT] = _rate(filled[:, _RATE_NUM], filled[:, _RATE_DEN])
    consent = filled[:, _CONSENT_RAW]
    put("consent_breadth", consent.sum(axis=1))
    put(
        "engagement_score",
        engagement_scores(
            days_since_last_activity=np.where(
                nan[:, _R["last_activity_ts"]], np.nan, out[:, _F["days_since_last_activity"]]
            ),
            activity_30d=zero("activity_30d"),
            lifetime_value_cents=zero("spend_all") * 100.0,
            consent=consent,
            sent_30d=filled[:, _SENT_30D_RAW].sum(axis=1),
            opened_30d=filled[:, _OPENED_30D_RAW].sum(axis=1),
            clicked_30d=zero("email_clicked_30d"),
        ),
    )
    return out


def model_features(raw: pd.DataFrame, as_of_seconds: np.ndarray) -> pd.DataFrame:
    """feature_matrix as a DataFrame with named columns."""
    values = raw[list(RAW_FIELDS)].to_numpy(dtype=np.float64)
    return pd.DataFrame(feature_matrix(values, as_of_seconds), columns=list(FEATURE_NAMES))
