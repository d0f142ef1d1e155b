"""A/B SPLIT winners: a branch wins when it beats every other branch on the step's metric at the step's confidence
(one-sided two-proportion z-test), each branch having at least `minSample` trials. Pure; tested directly."""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm


@dataclass(frozen=True)
class Arm:
    branch: str
    trials: int
    successes: int

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else 0.0


def p_better(a: Arm, b: Arm) -> float:
    """Confidence that a's rate is above b's (1 - one-sided p-value)."""
    if a.trials == 0 or b.trials == 0:
        return 0.0
    pooled = (a.successes + b.successes) / (a.trials + b.trials)
    se = math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials))
    if se == 0:
        return 0.0
    return float(norm.cdf((a.rate - b.rate) / se))


def winner(arms: list[Arm], confidence: float, min_sample: int) -> tuple[str, float] | None:
    if len(arms) < 2 or any(a.trials < min_sample for a in arms):
        return None
    best = max(arms, key=lambda a: a.rate)
    worst_case = min(p_better(best, other) for other in arms if other is not best)
    return (best.branch, worst_case) if worst_case >= confidence else None
