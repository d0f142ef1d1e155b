"""The A/B test's statistics, pure (no I/O): is the best variant better than every other at the confidence?

With k variants, the k x 2 table (successes, failures) is first tested as a whole (chi-square test of
homogeneity). If that is significant, the best variant must also beat the runner-up on its own at
alpha / (k - 1) (Bonferroni over the k - 1 comparisons the best takes part in): a 2 x 2 chi-square test, or
Fisher's exact test when an expected cell is below 5. Only then is the best variant a significant winner.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scipy.stats import chi2_contingency, fisher_exact


@dataclass(frozen=True)
class Arm:
    name: str
    trials: int
    successes: int

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else 0.0


@dataclass(frozen=True)
class Decision:
    best: str | None  # the variant with the highest rate (ties: the first named); None without trials
    significant: bool
    p_value: float | None  # of the best against the runner-up
    overall_p_value: float | None
    test: str
    arms: list[Arm]


def _pair_p(a: Arm, b: Arm) -> tuple[float, str]:
    table = [[a.successes, a.trials - a.successes], [b.successes, b.trials - b.successes]]
    total = a.trials + b.trials
    succ = a.successes + b.successes
    if succ in (0, total):
        return 1.0, "none (no variation)"
    expected_min = min(a.trials, b.trials) * min(succ, total - succ) / total
    if expected_min < 5:
        return float(fisher_exact(table).pvalue), "fisher-exact"
    return float(chi2_contingency(table, correction=False).pvalue), "chi-square"


def decide(counts: Mapping[str, tuple[int, int]], confidence: float) -> Decision:
    """`counts`: variant -> (recipients, successes)."""
    arms = [Arm(name, trials, min(successes, trials)) for name, (trials, successes) in counts.items()]
    alpha = 1 - confidence
    live = [a for a in arms if a.trials > 0]
    if len(live) < 2:
        best = max(live, key=lambda a: a.rate).name if live else None
        return Decision(best, False, None, None, "none (fewer than two variants reached anyone)", arms)
    ranked = sorted(live, key=lambda a: (-a.rate, live.index(a)))
    best, runner_up = ranked[0], ranked[1]
    succ = sum(a.successes for a in live)
    total = sum(a.trials for a in live)
    if succ in (0, total):
        return Decision(best.name, False, 1.0, 1.0, "none (no variation)", arms)
    overall = float(chi2_contingency([[a.successes, a.trials - a.successes] for a in live],
                                     correction=False).pvalue)
    pair, test = _pair_p(best, runner_up)
    k = len(live)
    significant = overall < alpha and pair < alpha / (k - 1) and best.rate > runner_up.rate
    name = f"chi-square {k}x2, then {test} best vs runner-up" + (f" (Bonferroni /{k - 1})" if k > 2 else "")
    return Decision(best.name, significant, pair, overall, name, arms)
