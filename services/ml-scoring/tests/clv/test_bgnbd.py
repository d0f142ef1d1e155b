"""BG/NBD and Gamma-Gamma recover the parameters of data simulated from their own processes."""

import numpy as np

from fairway_ml_scoring.clv.bgnbd import BgNbd, GammaGamma, monthly_breakdown


def simulate(n=2500, seed=0):
    rng = np.random.default_rng(seed)
    r, alpha, a, b = 0.5, 10.0, 1.5, 4.0
    T = rng.uniform(200, 300, n)
    lam = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(a, b, n)
    x, tx = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            tx[i] = t
            if rng.random() < drop[i]:
                break
    return x, tx, T, (r, alpha, a, b)


def test_bgnbd_recovers_parameters_and_predicts_sensibly() -> None:
    x, tx, T, (r, alpha, a, b) = simulate()
    fit = BgNbd.fit(x, tx, T)
    assert abs(fit.r - r) / r < 0.3 and abs(fit.alpha - alpha) / alpha < 0.4
    assert abs(fit.a / (fit.a + fit.b) - a / (a + b)) < 0.08  # the mean dropout probability
    # Someone who bought often and recently is expected to buy more than someone gone quiet.
    busy, quiet = fit.expected(90, [10, 10], [250, 20], [260, 260])
    assert busy > 3 * quiet and quiet >= 0
    alive = fit.p_alive([0, 10, 10], [0, 250, 20], [260, 260, 260])
    assert alive[0] == 1.0 and alive[1] > 0.8 and alive[2] < 0.2


def test_gamma_gamma_and_monthly_breakdown() -> None:
    rng = np.random.default_rng(1)
    p, q, v = 6.0, 4.0, 15.0
    n = 3000
    x = rng.integers(1, 10, n).astype(float)
    nu = rng.gamma(q, 1 / v, n)
    m = np.array([rng.gamma(p, 1 / nu[i], int(xi)).mean() for i, xi in enumerate(x)])
    gg = GammaGamma.fit(x, m)
    assert abs(gg.p * gg.v / (gg.q - 1) - p * v / (q - 1)) / (p * v / (q - 1)) < 0.15  # population mean spend
    spend = gg.expected_spend([5, 0], [100.0, 0.0])
    assert spend[0] > 0 and abs(spend[1] - gg.p * gg.v / (gg.q - 1)) < 1e-9
    x_, tx, T, _ = simulate(800, seed=2)
    bg = BgNbd.fit(x_, tx, T)
    months = monthly_breakdown(bg, gg, 6, 200, 220, 80.0)
    assert len(months) == 12 and all(mo["predictedSpend"] >= 0 for mo in months)
    assert (
        months[0]["expectedPurchases"] >= months[-1]["expectedPurchases"]
    )  # dropout makes later months smaller
