"""The VaR and expected-shortfall backtests against figures derived by hand and against
simulated histories whose truth is known, and the two baselines against their definitions."""
import math

import numpy as np
from scipy.stats import norm

from research import var_tests as vt


def iid(n: int, rate: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(n) < rate


def test_kupiec_matches_the_likelihood_ratio_written_out():
    b = np.zeros(250, bool)
    b[[10, 50, 90, 130, 170]] = True
    # LR = -2 ln[0.99^245 0.01^5 / ((245/250)^245 (5/250)^5)]
    lr = -2 * (245 * math.log(0.99) + 5 * math.log(0.01) - 245 * math.log(245 / 250) - 5 * math.log(5 / 250))
    test = vt.kupiec(b, 0.99)
    assert math.isclose(test.stat, lr, rel_tol=1e-12)
    assert math.isclose(test.p_value, math.erfc(math.sqrt(lr / 2)), rel_tol=1e-9)  # chi2(1)'s tail


def test_kupiec_with_no_breach_or_all_breaches_keeps_only_the_null_terms():
    none, every = vt.kupiec(np.zeros(250, bool), 0.99), vt.kupiec(np.ones(250, bool), 0.99)
    # the fitted rate of 0 or 1 has likelihood 1, so LR = -2 log L(null)
    assert math.isclose(none.stat, -2 * 250 * math.log(0.99), rel_tol=1e-12)
    assert math.isclose(every.stat, -2 * 250 * math.log(0.01), rel_tol=1e-12)
    assert not every.passed


def test_kupiec_of_a_breach_rate_exactly_at_1_minus_level_is_zero_not_a_rounding_negative():
    b = np.zeros(40, bool)
    b[[3, 30]] = True  # 2 of 40 is 5%, which 1 - 0.95 misses in the last bit
    assert (vt.kupiec(b, 0.95).stat, vt.kupiec(b, 0.95).p_value) == (0.0, 1.0)


def test_kupiec_passes_the_right_rate_and_rejects_double_it():
    assert vt.kupiec(iid(2000, 0.05, seed=3), 0.95).passed
    assert vt.kupiec(iid(2000, 0.10, seed=3), 0.95).p_value < 1e-6


def test_kupiec_rejects_about_as_often_as_its_size_when_the_rate_is_right():
    p = np.array([vt.kupiec(iid(2000, 0.05, seed), 0.95).p_value for seed in range(400)])
    # 5% of 400 runs is 20, binomial sd 4.4; the discrete count of breaches moves the true
    # size a little off 5%, hence a band of about 3 sd
    assert 0.02 < np.mean(p < 0.05) < 0.09


def test_christoffersen_matches_the_markov_likelihood_ratio_written_out():
    b = np.array([0, 0, 1, 1, 0, 1, 0, 0], bool)
    # transitions 00 01 11 10 01 10 00: n00 = 2, n01 = 2, n10 = 2, n11 = 1; 3 breaches of 7 after day 0
    markov = 2 * math.log(2 / 4) + 2 * math.log(2 / 4) + 2 * math.log(2 / 3) + math.log(1 / 3)
    single = 4 * math.log(4 / 7) + 3 * math.log(3 / 7)
    assert math.isclose(vt.christoffersen(b).stat, 2 * (markov - single), rel_tol=1e-12)


def test_christoffersen_rejects_breaches_in_runs_and_passes_independent_ones():
    clustered = np.zeros(1000, bool)
    for start in np.random.default_rng(0).choice(np.arange(0, 1000, 10), size=10, replace=False):
        clustered[start:start + 5] = True  # runs of 5, 5% of days
    assert clustered.mean() == 0.05
    assert vt.christoffersen(clustered).p_value < 1e-6
    assert vt.christoffersen(iid(2000, 0.05, seed=5)).passed


def test_degenerate_breach_series_give_zero_rather_than_nan():
    for b in (np.zeros(100, bool), np.ones(100, bool), np.r_[np.zeros(99, bool), True],
              np.r_[True, np.zeros(99, bool)], np.array([], bool), np.array([True])):
        test = vt.christoffersen(b)
        assert (test.stat, test.p_value) == (0.0, 1.0), b
        assert np.isfinite(vt.conditional_coverage(b, 0.99).stat)


def test_conditional_coverage_is_the_sum_of_the_two_ratios_on_two_degrees_of_freedom():
    b = iid(500, 0.08, seed=11)
    cc = vt.conditional_coverage(b, 0.95)
    assert math.isclose(cc.stat, vt.kupiec(b, 0.95).stat + vt.christoffersen(b).stat, rel_tol=1e-12)
    assert math.isclose(cc.p_value, math.exp(-cc.stat / 2), rel_tol=1e-9)  # chi2(2)'s tail


def test_z2_divides_each_breach_by_its_own_day_s_es():
    losses, var, es = np.array([1.0, 3.0, 0.5, 4.0]), np.full(4, 2.0), np.array([3.0, 3.0, 5.0, 5.0])
    # breaches on days 1 and 3: 1 - (3/3 + 4/5) / (4 * 0.5)
    draws = np.repeat(losses[:, None], 3, axis=1)
    assert math.isclose(vt.acerbi_szekely(losses, var, es, 0.5, draws, sims=10).stat, 0.1, rel_tol=1e-12)


def normal_forecasts(days: int, level: float, seed: int):
    """A normal model with a scale of its own each day: its VaR, ES and predictive draws."""
    sigma = np.random.default_rng(seed).uniform(0.5, 2.0, days)
    z = norm.ppf(level)
    grid = norm.ppf((np.arange(1000) + 0.5) / 1000)
    return sigma, sigma * z, sigma * norm.pdf(z) / (1 - level), sigma[:, None] * grid


def test_acerbi_szekely_accepts_losses_from_the_predicted_distributions():
    sigma, var, es, draws = normal_forecasts(500, 0.975, seed=1)
    losses = sigma * np.random.default_rng(2).standard_normal(500)
    test = vt.acerbi_szekely(losses, var, es, 0.975, draws)
    # Var(L 1{L > VaR} / ES) is about 0.025 a day for a normal at 97.5%, so Z2's sd is
    # sqrt(0.025 / (500 * 0.025^2)) = 0.28; 3 sd is 0.85
    assert abs(test.stat) < 0.85
    assert test.passed


def test_acerbi_szekely_rejects_losses_more_dispersed_than_predicted():
    sigma, var, es, draws = normal_forecasts(500, 0.975, seed=1)
    losses = 1.5 * sigma * np.random.default_rng(2).standard_normal(500)
    test = vt.acerbi_szekely(losses, var, es, 0.975, draws)
    assert test.stat < 0 and test.p_value < 0.05


def test_tick_loss_is_the_pinball_loss_and_lowest_at_the_true_quantile():
    # (1.0 - 1.5)(0.9 - 1) = 0.05 and (2.0 - 1.5)(0.9) = 0.45
    assert math.isclose(vt.tick_loss(np.array([1.0, 2.0]), np.full(2, 1.5), 0.9), 0.25, rel_tol=1e-12)
    losses = np.random.default_rng(4).standard_normal(20_000)
    true = vt.tick_loss(losses, np.full(20_000, norm.ppf(0.95)), 0.95)
    for wrong in (0.8, 1.2):
        assert true < vt.tick_loss(losses, np.full(20_000, wrong * norm.ppf(0.95)), 0.95)


def test_historical_simulation_takes_the_high_side_quantile_of_each_row():
    rng = np.random.default_rng(6)
    history = np.stack([rng.permutation(np.arange(1.0, 251.0)), rng.normal(size=250)])
    f = vt.historical_simulation(history, np.array([0.95, 0.99]))
    # the 0-based sorted position (W - 1) c rounded up: 237 and 247, i.e. losses 238 and 248 of 1..250
    assert list(f.var[0]) == [238.0, 248.0]
    assert list(f.es[0]) == [np.mean(np.arange(238.0, 251.0)), 249.0]
    ranked = np.sort(history[1])
    assert list(f.var[1]) == [ranked[237], ranked[247]]
    assert f.es[1, 1] == ranked[247:].mean()
    assert np.all(f.es >= f.var)
    assert np.array_equal(f.draws, history)


def test_riskmetrics_follows_the_ewma_covariance_recursion():
    r = np.array([[0.01, -0.02], [0.03, 0.01], [-0.02, 0.04], [0.005, -0.01]])
    w, lam, levels = np.array([0.6, -0.4]), 0.94, np.array([0.95, 0.99])
    s = (np.outer(r[0], r[0]) + np.outer(r[1], r[1])) / 2
    sigmas = []
    for day in (2, 3):
        s = lam * s + (1 - lam) * np.outer(r[day], r[day])
        sigmas.append(math.sqrt(5 * w @ s @ w))
    f = vt.riskmetrics(r, w, 5, levels, lam=lam, warmup=2, draws=4)
    sigma = np.array(sigmas)[:, None]
    assert np.allclose(f.var, sigma * norm.ppf(levels), rtol=1e-12)
    assert np.allclose(f.es, sigma * norm.pdf(norm.ppf(levels)) / (1 - levels), rtol=1e-12)
    assert np.allclose(f.draws, sigma * norm.ppf([0.125, 0.375, 0.625, 0.875]), rtol=1e-12)


def test_riskmetrics_row_i_is_made_at_the_close_of_day_warmup_plus_i():
    r = np.random.default_rng(7).normal(scale=0.01, size=(300, 2))
    w, levels = np.array([0.5, 0.5]), np.array([0.99])
    base = vt.riskmetrics(r, w, 1, levels, warmup=250)
    assert base.var.shape == (50, 1)
    moved = r.copy()
    moved[260] *= 5
    shifted = vt.riskmetrics(moved, w, 1, levels, warmup=250)
    assert np.array_equal(shifted.var[:10], base.var[:10])  # days 250..259 do not know day 260
    assert np.all(shifted.var[10:] > base.var[10:])


def test_riskmetrics_breaches_about_5_percent_at_95_on_normal_returns():
    cov = np.array([[1.0, 0.3, -0.2], [0.3, 2.0, 0.5], [-0.2, 0.5, 0.5]]) * 1e-4
    w = np.array([0.5, 0.3, 0.2])
    r = np.random.default_rng(8).multivariate_normal(np.zeros(3), cov, size=250 + 4001)
    f = vt.riskmetrics(r, w, 1, np.array([0.95]))
    losses = -(r[251:] @ w)  # the day after each forecast's
    rate = np.mean(losses > f.var[:-1, 0])
    # An EWMA at 0.94 weighs about (1 + lam) / (1 - lam) = 32 days, and its noisy sigma lifts the
    # breach rate to about 5.5%; 4,000 days give a binomial sd of 0.36 points, widened for the
    # breaches' dependence through the shared sigma
    assert 0.045 < rate < 0.068
