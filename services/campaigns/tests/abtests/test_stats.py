"""The A/B test's significance decision, pure."""
from fairway_campaigns.abtests.service import outcome
from fairway_campaigns.abtests.stats import decide


def test_clear_winner_is_significant() -> None:
    d = decide({"A": (500, 150), "B": (500, 100)}, 0.95)
    assert d.best == "A" and d.significant and d.p_value is not None and d.p_value < 0.001
    assert outcome(d, "SEND_NONE") == ("SIGNIFICANT", "A")


def test_small_difference_is_not_and_the_tenant_decides() -> None:
    d = decide({"A": (500, 110), "B": (500, 100)}, 0.95)
    assert d.best == "A" and not d.significant and d.p_value is not None and d.p_value > 0.05
    assert outcome(d, "SEND_BEST") == ("BEST_NOT_SIGNIFICANT", "A")
    assert outcome(d, "SEND_NONE") == ("NONE", None)


def test_confidence_matters() -> None:
    counts = {"A": (400, 60), "B": (400, 40)}  # p about 0.03
    assert decide(counts, 0.95).significant
    assert not decide(counts, 0.99).significant


def test_many_variants_need_the_best_to_beat_the_runner_up() -> None:
    # C is far behind, so the table as a whole differs, but A and B are close: no winner.
    d = decide({"A": (300, 90), "B": (300, 85), "C": (300, 20)}, 0.95)
    assert d.overall_p_value is not None and d.overall_p_value < 0.001
    assert d.best == "A" and not d.significant
    assert decide({"A": (300, 140), "B": (300, 85), "C": (300, 20)}, 0.95).significant


def test_small_samples_use_fishers_exact_test_and_degenerate_tables_are_not_significant() -> None:
    assert "fisher" in decide({"A": (10, 8), "B": (10, 1)}, 0.95).test
    nothing = decide({"A": (50, 0), "B": (50, 0)}, 0.95)
    assert not nothing.significant and nothing.p_value == 1.0
    lonely = decide({"A": (50, 5), "B": (0, 0)}, 0.95)
    assert lonely.best == "A" and not lonely.significant
