"""The implementation guide's engagement score: weights .30/.25/.20/.15/.10 and its step tables."""

import numpy as np

from fairway_ml_scoring.features.engagement import combine, components


def score(days, count30, ltv_cents, consent, sent, opened, clicked):
    parts = components(
        days_since_last_activity=np.array([days], dtype=float),
        activity_30d=np.array([count30]),
        lifetime_value_cents=np.array([ltv_cents]),
        consent=np.array([consent]),
        sent_30d=np.array([sent]),
        opened_30d=np.array([opened]),
        clicked_30d=np.array([clicked]),
    )
    return {k: float(v[0]) for k, v in parts.items()}, int(combine(parts)[0])


def test_steps_and_weights() -> None:
    parts, total = score(5, 20, 100000, [1, 1, 1, 1], 10, 10, 10)
    assert (
        parts == {"recency": 100, "frequency": 100, "monetary": 100, "breadth": 100, "depth": 100}
        and total == 100
    )
    parts, total = score(14, 10, 50000, [1, 0, 0, 0], 4, 2, 1)
    # recency 80, frequency 80, monetary 80, breadth 25, depth round(.5*50 + .5*50) = 50
    assert parts == {"recency": 80, "frequency": 80, "monetary": 80, "breadth": 25, "depth": 50}
    assert total == round(80 * 0.3 + 80 * 0.25 + 80 * 0.2 + 25 * 0.15 + 50 * 0.1)  # 69.75 -> 70
    parts, total = score(91, 0, 4999, [0, 0, 0, 0], 0, 0, 0)
    assert parts == {"recency": 0, "frequency": 0, "monetary": 0, "breadth": 0, "depth": 50} and total == 5
    parts, _ = score(np.nan, 1, 5000, [0, 0, 0, 0], 3, 1, 0)
    assert (
        parts["recency"] == 0
        and parts["frequency"] == 20
        and parts["monetary"] == 20
        and parts["depth"] == 17
    )


def test_boundaries() -> None:
    for days, expected in ((7, 100), (7.01, 80), (30, 60), (60, 40), (90, 20), (90.5, 0)):
        assert score(days, 0, 0, [0] * 4, 0, 0, 0)[0]["recency"] == expected
    for count, expected in ((1, 20), (2, 40), (4, 40), (5, 60), (9, 60), (10, 80), (19, 80)):
        assert score(1, count, 0, [0] * 4, 0, 0, 0)[0]["frequency"] == expected
    # Math.round: .5 goes up. 60*.3 + 60*.25 + 80*.2 + 50*.15 + 60*.1 = 62.5 -> 63 (numpy would say 62)
    parts, total = score(20, 5, 50000, [1, 1, 0, 0], 5, 5, 1)
    assert parts["depth"] == 60 and total == 63
