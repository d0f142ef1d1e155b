"""The probabilistic CLV baseline: BG/NBD for purchase counts (Fader, Hardie & Lee 2005, "Counting your
customers the easy way") and Gamma-Gamma for spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV").

Maximum likelihood with scipy on log-parameters. Inputs per customer: frequency x (repeat purchase days),
recency t_x and age T in days.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1


def _arr(v: object) -> np.ndarray:
    return np.asarray(v, dtype=np.float64)


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    @staticmethod
    def log_likelihood(
        r: float, alpha: float, a: float, b: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = betaln(a, b + x) - betaln(a, b)
        a3 = -(r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            a4 = np.where(
                x > 0,
                np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + tx),
                -np.inf,
            )
        return a1 + a2 + np.logaddexp(a3, a4)

    @classmethod
    def fit(cls, frequency: object, recency: object, T: object, penalizer: float = 1e-3) -> BgNbd:
        x, tx, t = _arr(frequency), _arr(recency), _arr(T)
        if len(x) < 10:
            raise ValueError(f"BG/NBD needs at least 10 customers, got {len(x)}")
        scale = max(1.0, float(np.median(t)))  # fit in units of the median age: better conditioned

        def nll(theta: np.ndarray) -> float:
            r, alpha, a, b = np.exp(theta)
            ll = cls.log_likelihood(r, alpha, a, b, x, tx / scale, t / scale)
            return -float(np.mean(ll)) + penalizer * float(np.sum(theta**2))

        best = None
        for start in ([0.0, 0.0, 0.0, 0.0], [-1.0, 0.5, -0.5, 1.0]):
            res = minimize(nll, np.array(start), method="L-BFGS-B", bounds=[(-8, 8)] * 4)
            if best is None or res.fun < best.fun:
                best = res
        assert best is not None
        r, alpha, a, b = np.exp(best.x)
        return cls(float(r), float(alpha * scale), float(a), float(b))

    def p_alive(self, frequency: object, recency: object, T: object) -> np.ndarray:
        x, tx, t = _arr(frequency), _arr(recency), _arr(T)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_ratio = (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
            term = np.where(x > 0, np.exp(np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) + log_ratio), 0.0)
        return 1.0 / (1.0 + np.nan_to_num(term, nan=np.inf, posinf=np.inf))

    def expected(self, t: float | np.ndarray, frequency: object, recency: object, T: object) -> np.ndarray:
        """Expected purchases in the next t days given each customer's history."""
        x, tx, age = _arr(frequency), _arr(recency), _arr(T)
        r, alpha, b = self.r, self.alpha, self.b
        a = self.a if abs(self.a - 1.0) > 1e-6 else 1.0 + 1e-6  # the closed form has a pole at a = 1
        t = _arr(t)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            big_a = (a + b + x - 1) / (a - 1)
            z = t / (alpha + age + t)
            hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
            first = 1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp
            out = big_a * first * self.p_alive(x, tx, age)
        return np.clip(np.nan_to_num(out, nan=0.0, posinf=0.0), 0, None)

    def params(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float

    @classmethod
    def fit(cls, frequency: object, monetary: object, penalizer: float = 1e-3) -> GammaGamma:
        x, m = _arr(frequency), _arr(monetary)
        keep = (x > 0) & (m > 0)
        x, m = x[keep], m[keep]
        if len(x) < 5:
            raise ValueError(f"Gamma-Gamma needs at least 5 repeat customers, got {len(x)}")
        scale = float(np.median(m))

        def nll(theta: np.ndarray) -> float:
            p, q, v = np.exp(theta)
            ms = m / scale
            ll = (
                gammaln(p * x + q)
                - gammaln(p * x)
                - gammaln(q)
                + q * np.log(v)
                + (p * x - 1) * np.log(ms)
                + (p * x) * np.log(x)
                - (p * x + q) * np.log(x * ms + v)
            )
            return -float(np.mean(ll)) + penalizer * float(np.sum(theta**2))

        res = minimize(nll, np.array([1.0, 1.0, 0.0]), method="L-BFGS-B", bounds=[(-8, 8)] * 3)
        p, q, v = np.exp(res.x)
        return cls(float(p), float(max(q, 1.0 + 1e-6)), float(v * scale))

    def expected_spend(self, frequency: object, monetary: object) -> np.ndarray:
        """Expected spend per purchase; customers without repeat purchases get the population mean."""
        x, m = _arr(frequency), _arr(monetary)
        p, q, v = self.p, self.q, self.v
        population = p * v / (q - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            individual = p * (v + x * m) / (p * x + q - 1)
        return np.where((x > 0) & (m > 0), individual, population)

    def params(self) -> dict[str, float]:
        return asdict(self)


def monthly_breakdown(
    bg: BgNbd, gg: GammaGamma, frequency: float, recency: float, T: float, monetary: float, months: int = 12
) -> list[dict[str, float]]:
    """Expected purchases and spend per month ahead; probability = P(at least one purchase that month)."""
    ends = np.arange(1, months + 1) * 30.4375
    cum = bg.expected(ends, np.full(months, frequency), np.full(months, recency), np.full(months, T))
    per_month = np.diff(np.concatenate([[0.0], cum]))
    spend = float(gg.expected_spend([frequency], [monetary])[0])
    return [
        {
            "expectedPurchases": float(n),
            "predictedSpend": float(n * spend),
            "probability": float(1 - np.exp(-n)),
        }
        for n in per_month
    ]
