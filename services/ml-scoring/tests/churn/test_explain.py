"""Risk levels, days until churn, and explanations staff can read, from a real ONNX model."""

import json

import numpy as np
import pandas as pd
import pytest
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

from fairway_ml_scoring.churn.explain import model_factors, recommended_actions, rule_factors
from fairway_ml_scoring.churn.risk import days_until_churn, risk_level
from fairway_ml_scoring.features.transform import FEATURE_NAMES
from fairway_ml_scoring.models.artifacts import save_onnx_model
from fairway_ml_scoring.models.loaded import ModelRejected, load_model
from fairway_ml_scoring.synthetic import feature_matrix


def member(**values: float) -> pd.DataFrame:
    base = dict(zip(FEATURE_NAMES, feature_matrix(1, FEATURE_NAMES, seed=1)[0], strict=True))
    base.update(values)
    return pd.DataFrame([base])[list(FEATURE_NAMES)]


def test_risk_levels_and_days_until_churn() -> None:
    t = (0.3, 0.6, 0.85)
    assert [risk_level(p, t) for p in (0.1, 0.3, 0.6, 0.85, 0.99)] == [
        "LOW",
        "MEDIUM",
        "HIGH",
        "CRITICAL",
        "CRITICAL",
    ]
    assert days_until_churn(0.73, 90) == 48  # the spec's example member: 73 % over 90 days
    assert days_until_churn(0.2, 90) > 90 and days_until_churn(0.0, 90) is None
    assert days_until_churn(0.99, 90) < days_until_churn(0.5, 90)


@pytest.fixture
def recency_model(tmp_path):
    """A model that learned 'long absences mean leaving', as a served ONNX version."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(feature_matrix(2000, FEATURE_NAMES), columns=list(FEATURE_NAMES))
    y = (X["days_since_last_activity"] + rng.normal(0, 10, len(X)) > 60).astype(int)
    feats = ["days_since_last_activity", "activity_90d", "email_open_rate_90d"]
    onx = to_onnx(
        LogisticRegression(max_iter=1000).fit(X[feats].to_numpy(np.float32), y),
        X[feats].to_numpy(np.float32)[:1],
        options={"zipmap": False},
        target_opset=15,
    )
    save_onnx_model(onx, tmp_path / "m", ModelSignature(Schema([ColSpec("float", f) for f in feats])))
    (tmp_path / "m" / "fairway.json").write_text(
        json.dumps({"baseline": X.median().to_dict(), "horizon_days": 90})
    )
    return load_model(
        tmp_path / "m",
        tenant_id="club-a",
        model="churn",
        version="7",
        tags={"fairway.tenant": "club-a"},
        expect_probability=True,
    )


def test_factors_describe_what_drives_the_prediction(recency_model) -> None:
    away = member(days_since_last_activity=120, activity_90d=0, email_open_rate_90d=0.4, activity_trend=-2)
    p = recency_model.predict_frame(away)[0]
    assert p > 0.9 and recency_model.predict_matrix(away.to_numpy())[0] == p
    factors = model_factors(recency_model, away.to_numpy()[0], recency_model.baseline)
    assert factors[0]["factor"] == "recency" and factors[0]["direction"] == "increases_risk"
    assert factors[0]["description"].startswith(
        "120 days since the last booking, round or purchase (a typical member:"
    )
    assert factors[0]["currentValue"] == 120 and 0 < factors[0]["impact"] <= 1
    assert {f["factor"] for f in factors} <= {"recency", "frequency", "engagement"}
    actions = recommended_actions(risk_level(p, (0.3, 0.6, 0.85)), factors, away.iloc[0])
    assert actions[0].startswith("Personal call") and any("we miss you" in a for a in actions)
    rules = rule_factors(
        member(
            days_since_last_activity=5,
            days_to_membership_expiry=-10,
            membership_cancelled=0,
            engagement_score=80,
            complaints_365d=0,
            unsubscribes_365d=0,
        ).to_numpy()[0],
        90,
    )
    assert rules[0]["factor"] == "membership" and rules[0]["description"].startswith(
        "The membership expired 10 days ago"
    )
    assert recommended_actions("LOW", rules, member().iloc[0]) == [
        "No action needed: keep the regular club communication going"
    ]


def test_served_versions_must_fit(recency_model, tmp_path) -> None:
    assert recency_model.features == ["days_since_last_activity", "activity_90d", "email_open_rate_90d"]
    with pytest.raises(ModelRejected, match="belongs to tenant 'club-a'"):
        load_model(
            tmp_path / "m",
            tenant_id="club-b",
            model="churn",
            version="7",
            tags={"fairway.tenant": "club-a"},
            expect_probability=True,
        )
    X = np.random.default_rng(1).normal(size=(50, 2)).astype(np.float32)
    onx = to_onnx(
        LogisticRegression().fit(X, (X[:, 0] > 0).astype(int)),
        X[:1],
        options={"zipmap": False},
        target_opset=15,
    )
    save_onnx_model(
        onx,
        tmp_path / "wide",
        ModelSignature(Schema([ColSpec("float", f) for f in ("handicap", "tenure_days", "activity_30d")])),
    )
    with pytest.raises(ModelRejected, match="signature names 3 features"):
        load_model(
            tmp_path / "wide",
            tenant_id="club-a",
            model="churn",
            version="8",
            tags={},
            expect_probability=True,
        )
    save_onnx_model(
        onx, tmp_path / "odd", ModelSignature(Schema([ColSpec("float", f) for f in ("handicap", "iq")]))
    )
    with pytest.raises(ModelRejected, match="does not compute: iq"):
        load_model(
            tmp_path / "odd", tenant_id="club-a", model="churn", version="9", tags={}, expect_probability=True
        )
