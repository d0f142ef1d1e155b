"""Point-in-time correctness of the feature engine: what a row as of D may and may not see."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from fairway_ml_scoring.features.engine import RAW_FIELDS, EventLog
from fairway_ml_scoring.features.transform import FEATURE_NAMES, model_features

D = datetime(2025, 6, 1, tzinfo=UTC)


def rows_for(events, subjects, when):
    return EventLog.from_rows(events).rows(subjects, [when] * len(subjects))


def history():
    return [
        ("p1", "booking", D - timedelta(days=40), 300.0, {}),
        ("p1", "round", D - timedelta(days=10), None, {}),
        ("p1", "purchase", D - timedelta(days=5), 120.0, {}),
        ("p1", "purchase", D, 80.0, {}),  # exactly at D: included
        (
            "p1",
            "member",
            D - timedelta(days=400),
            None,
            {"memberSince": "2020-01-01", "membershipExpiry": "2025-07-01"},
        ),
        ("p1", "handicap", D - timedelta(days=100), None, {"handicap": 12.0}),
        ("p1", "handicap", D - timedelta(days=20), None, {"handicap": 14.5}),
        ("p1", "email_sent", D - timedelta(days=3), None, {}),
        ("p1", "email_opened", D - timedelta(days=2), None, {}),
        ("p1", "consent", D - timedelta(days=50), None, {"emailOptIn": True, "smsOptIn": True}),
        ("p2", "round", D - timedelta(days=200), None, {}),
    ]


def test_windows_are_half_open_and_include_the_as_of_instant() -> None:
    raw = rows_for(history(), ["p1", "p2"], D).set_index(pd.Index(["p1", "p2"]))
    assert raw.loc["p1", "activity_30d"] == 3  # round, 2 purchases; the booking is 40 days back
    assert raw.loc["p1", "activity_90d"] == 4
    assert raw.loc["p1", "spend_30d"] == 200.0 and raw.loc["p1", "spend_all"] == 500.0
    assert raw.loc["p1", "handicap_latest"] == 14.5 and raw.loc["p1", "handicap_90d_ago"] == 12.0
    assert raw.loc["p1", "consent_email"] == 1 and raw.loc["p1", "consent_push"] == 0
    assert raw.loc["p2", "activity_30d"] == 0 and raw.loc["p2", "activity_365d"] == 1
    # An event exactly 30 days before D has left the 30-day window.
    edge = rows_for([("p3", "round", D - timedelta(days=30), None, {})], ["p3"], D)
    assert edge.loc[0, "activity_30d"] == 0 and edge.loc[0, "activity_90d"] == 1


def test_a_planted_future_event_never_leaks_into_a_past_row() -> None:
    base = history()
    future = [
        ("p1", "purchase", D + timedelta(seconds=1), 99999.0, {}),
        ("p1", "membership_cancelled", D + timedelta(days=3), None, {}),
        ("p1", "member", D + timedelta(days=1), None, {"membershipExpiry": "2030-01-01"}),
        (
            "p1",
            "timeline",
            D + timedelta(days=2),
            None,
            {"lastActivityAt": (D + timedelta(days=2)).isoformat()},
        ),
        ("p1", "handicap", D + timedelta(days=1), None, {"handicap": 40.0}),
    ]
    past = [D - timedelta(days=k) for k in (0, 1, 29, 30, 89, 364)]
    clean = EventLog.from_rows(base).rows(["p1"] * len(past), past)
    planted = EventLog.from_rows(base + future).rows(["p1"] * len(past), past)
    pd.testing.assert_frame_equal(clean, planted)
    # ...and the same holds for the change-point rows the Feast offline source serves.
    cp_clean = EventLog.from_rows(base).change_points(D + timedelta(days=400))
    cp_planted = EventLog.from_rows(base + future).change_points(D + timedelta(days=400))
    past_clean = cp_clean[cp_clean.event_timestamp <= pd.Timestamp(D)].reset_index(drop=True)
    past_planted = cp_planted[cp_planted.event_timestamp <= pd.Timestamp(D)].reset_index(drop=True)
    pd.testing.assert_frame_equal(past_clean, past_planted)
    # The planted events are seen as of their own time (so the test can fail).
    later = EventLog.from_rows(base + future).rows(["p1"], [D + timedelta(days=5)])
    assert later.loc[0, "spend_all"] > 99999 and later.loc[0, "membership_cancelled"] == 1


def test_change_points_give_exact_rows_for_any_date() -> None:
    log = EventLog.from_rows(history())
    cp = log.change_points(D + timedelta(days=500))
    rng = np.random.default_rng(0)
    for _ in range(25):
        when = D - timedelta(days=int(rng.integers(-450, 450)), hours=int(rng.integers(0, 24)))
        rows = cp[(cp.subject == "p1") & (cp.event_timestamp <= pd.Timestamp(when))]
        exact = log.rows(["p1"], [when]).iloc[0]
        if rows.empty:
            assert exact["event_count"] == 0
            continue
        latest = rows.iloc[-1]
        for f in RAW_FIELDS:
            a, b = latest[f], exact[f]
            assert (np.isnan(a) and np.isnan(b)) or a == b, (when, f, a, b)


def test_model_features_are_complete_and_relative_to_the_as_of_time() -> None:
    raw = rows_for(history(), ["p1", "nobody"], D)
    f = model_features(raw, np.array([D.timestamp()] * 2))
    assert list(f.columns) == list(FEATURE_NAMES) and not f.isna().any().any()
    assert f.loc[0, "days_since_last_activity"] == 0 and f.loc[0, "days_to_membership_expiry"] == 30
    assert f.loc[0, "handicap_trend_90d"] == 2.5 and f.loc[0, "consent_breadth"] == 2
    assert f.loc[1, "days_since_last_activity"] == 1000 and f.loc[1, "is_member"] == 0


def test_rfm_summary_counts_purchase_days() -> None:
    events = [
        ("c1", "purchase", D - timedelta(days=100), 10.0, {}),
        ("c1", "purchase", D - timedelta(days=100), 5.0, {}),
        ("c1", "purchase", D - timedelta(days=40), 30.0, {}),
        ("c1", "purchase", D - timedelta(days=10), 50.0, {}),
        ("c2", "purchase", D - timedelta(days=5), 7.0, {}),
    ]
    rfm = EventLog.from_rows(events).rfm(D, ["c1", "c2", "c3"]).set_index("subject")
    assert (
        rfm.loc["c1", "frequency"] == 2
        and rfm.loc["c1", "recency"] == 90
        and round(rfm.loc["c1", "T"]) == 100
    )
    assert rfm.loc["c1", "monetary"] == 40.0 and rfm.loc["c1", "spend"] == 95.0
    assert rfm.loc["c2", "frequency"] == 0 and np.isnan(rfm.loc["c3", "T"])
