import numpy as np
import pandas as pd

from fairway_ml_scoring.drift.stats import drift_report, feature_psi, reference


def test_psi_flags_a_shifted_sample_and_not_a_fresh_draw() -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"days": rng.exponential(20, 4000), "visits": rng.poisson(4, 4000).astype(float)})
    ref = reference(train)
    same = pd.DataFrame({"days": rng.exponential(20, 1500), "visits": rng.poisson(4, 1500).astype(float)})
    shifted = pd.DataFrame({"days": rng.exponential(45, 1500), "visits": rng.poisson(4, 1500).astype(float)})
    assert feature_psi(ref["days"], same["days"].to_numpy()) < 0.05
    report = {r["feature"]: r for r in drift_report(ref, shifted, threshold=0.2)}
    assert report["days"]["drifted"] and report["days"]["psi"] > 0.2 and report["days"]["ksPValue"] < 1e-6
    assert not report["visits"]["drifted"] and report["visits"]["psi"] < 0.05
    assert not any(r["drifted"] for r in drift_report(ref, same, threshold=0.2))
