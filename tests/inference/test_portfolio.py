"""Books: the served marginals on the score grid, the copula (fitted on outcomes' normal
scores, walked forward), and a book's VaR, ES and Euler contributions read off draws."""
from datetime import date

import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm

from inference.adaptive import adapt
from inference.book import book_risk
from inference.conformal import LEVELS, AdaptiveScales, intervals, scaled_quantiles
from inference.dependence import Dependence, EwmaCorrelation, choose, loglik, walk
from inference.distribution import gaussian
from inference.marginal import Z, at_scores, scores_of, table
from inference.pit import outcome_scores
from inference.portfolio import answer, members, tables
from inference.results import error_result, ok_result
from inference.risk import RiskAssessment
from schemas import QUANTILES, SchemaError, decode
from schemas.portfolio import MAX_BOOK_SYMBOLS, PortfolioRequest
from tests.inference.test_conformal import random_walk_backtest

SIGMA = np.array([0.01, 0.02, 0.015])


def normal_quantiles(sigma: np.ndarray) -> np.ndarray:
    return sigma[:, None] * norm.ppf(QUANTILES)[None, :]


def test_a_gaussian_forecast_is_tabulated_exactly_and_its_scores_invert_it():
    tab = table(normal_quantiles(SIGMA))
    assert np.allclose(tab, SIGMA[:, None] * Z[None, :], atol=1e-15)
    z = np.array([-2.5, 0.3, 4.0])
    assert np.allclose(scores_of(tab, SIGMA * z), z, atol=1e-12)
    draws = np.array([[-1.0, 0.0, 2.0], [7.5, -7.9, 0.01]])
    assert np.allclose(at_scores(tab, draws), draws * SIGMA, atol=1e-12)


def test_the_table_holds_what_the_service_serves_with_adaptive_scales_and_risk_widening():
    q = normal_quantiles(SIGMA) + np.array([[0.001], [-0.002], [0.0]])
    logs = np.log(np.array([[1.3, 1.2, 1.1, 1.4], [0.8, 0.9, 1.0, 0.7], [1.0, 1.0, 1.0, 1.0]]))
    spread = np.array([1.0, 1.5, 1.2])
    tab = table(q, spread, logs)
    for i in range(3):
        widened = q[i]
        mid = widened[QUANTILES.index(0.5)]
        served_q = scaled_quantiles((mid + (widened - mid) * spread[i])[None], AdaptiveScales(log_scale=logs[i]))[0]
        # exact but where the scales kink between grid points: within 0.3% of the spread
        assert np.interp(norm.ppf(QUANTILES), Z, tab[i]) == pytest.approx(served_q, rel=3e-3)
        lo, hi = intervals((mid + (widened - mid) * spread[i])[None], [0.95], np.exp(logs[i][[LEVELS.index(0.95)]]))
        assert np.interp(norm.ppf([0.025, 0.975]), Z, tab[i]) == pytest.approx([lo[0, 0], hi[0, 0]], abs=2e-5)
    assert np.all(np.diff(tab, axis=1) >= 0)


def served(symbol: str, sigma: float, close: float = 100.0, risk_scale: float = 1.3, scales=None):
    dist = gaussian((1, 5, 10, 21), np.zeros(4), sigma * np.sqrt([1, 5, 10, 21]))
    risk = RiskAssessment(rules=(), scale=risk_scale, var_95=0.0, raw_var_95=0.0) \
        if risk_scale != 1.0 else None
    request = members(PortfolioRequest(weights={symbol: 1.0}), "p")[0]
    return ok_result(request=request, request_id=request.request_id, as_of=date(2023, 12, 29), last_close=close,
                     model_version="m", dist=dist.widened(risk_scale), risk=risk, regime=None, latency_ms=0.0,
                     scales=scales), dist


def test_a_members_table_is_recovered_from_its_served_result():
    scales = {1: np.log([1.2, 1.1, 1.3, 1.5]), 5: np.zeros(4), 10: np.zeros(4), 21: np.zeros(4)}
    result, dist = served("SPY", 0.012, close=471.5, scales=scales)
    got = tables([result], 1)
    want = table(dist.quantiles[:1], np.array([1.3]), scales[1][None])
    assert np.allclose(got, want, atol=1e-9)


CORR = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.1], [-0.3, 0.1, 1.0]])


def test_a_gaussian_books_var_and_es_match_the_closed_form_and_the_contributions_sum_to_the_var():
    w = np.array([0.5, 0.3, 0.2])
    risk = book_risk(w, table(normal_quantiles(SIGMA)), CORR, None, np.array([0.95, 0.99]), 1)
    sd = np.sqrt(w @ (np.outer(SIGMA, SIGMA) * CORR) @ w)  # log returns this small are nearly simple
    for j, c in enumerate((0.95, 0.99)):
        z = norm.ppf(c)
        assert risk.var[j] == pytest.approx(z * sd, rel=0.04)
        assert risk.es[j] == pytest.approx(sd * norm.pdf(z) / (1 - c), rel=0.05)
        assert risk.contributions[j].sum() == pytest.approx(risk.var[j], rel=1e-9)
    # Euler for a Gaussian book: position i's share of the VaR is w_i (Sigma w)_i / w'Sigma w. Read
    # off the draws near the VaR it is noisy (0.04 for a share of 0.06 at 99% from the default
    # draws): with ten times as many it must be close.
    cov = np.outer(SIGMA, SIGMA) * CORR
    many = book_risk(w, table(normal_quantiles(SIGMA)), CORR, None, np.array([0.95, 0.99]), 1, m=100_000)
    assert many.contributions / many.var[:, None] == pytest.approx(np.tile(w * (cov @ w) / (w @ cov @ w), (2, 1)),
                                                                   abs=0.012)
    again = book_risk(w, table(normal_quantiles(SIGMA)), CORR, None, np.array([0.95, 0.99]), 1)
    assert np.array_equal(again.var, risk.var), "the same book gets the same answer"


def test_the_t_copula_fattens_the_joint_tail_and_a_hedge_shrinks_the_var():
    n = 20
    corr = np.full((n, n), 0.5) + 0.5 * np.eye(n)
    tab, w = table(normal_quantiles(np.full(n, 0.02))), np.full(n, 1 / n)
    gauss = book_risk(w, tab, corr, None, np.array([0.99]), 1)
    heavy = book_risk(w, tab, corr, 3.0, np.array([0.99]), 1)
    assert heavy.es[0] > gauss.es[0] * 1.05
    one = table(normal_quantiles(np.array([0.02, 0.02])))
    twins = np.array([[1.0, 0.95], [0.95, 1.0]])
    pair = book_risk(np.array([1.0, -1.0]), one, twins, None, np.array([0.95]), 1)
    alone = book_risk(np.array([1.0, 0.0]), one, twins, None, np.array([0.95]), 1)
    assert pair.var[0] < alone.var[0] / 2
    assert alone.var[0] == pytest.approx(-np.expm1(0.02 * norm.ppf(0.05)), rel=0.03)


def test_the_ewma_correlation_recovers_a_known_one_and_takes_symbols_that_start_later():
    rng = np.random.default_rng(1)
    z = multivariate_normal(np.zeros(3), CORR).rvs(3000, random_state=rng)
    z[:1000, 2] = np.nan
    state = EwmaCorrelation(3, halflife=400)
    for row in z:
        state.update(row)
    corr, shrink = state.correlation()
    assert 0 <= shrink < 0.1
    assert corr == pytest.approx(CORR, abs=0.08)


def test_the_walk_uses_only_outcomes_known_by_each_close():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((60, 4)) + rng.standard_normal((60, 1))  # one common factor
    h, i = 5, 40
    before = next(c for j, c, _ in walk(z, h, 20.0) if j == i)
    z2 = z.copy()
    z2[i - h + 1:] = rng.standard_normal((len(z) - i + h - 1, 4)) * 3  # outcomes not yet known at i's close
    after = next(c for j, c, _ in walk(z2, h, 20.0) if j == i)
    assert np.array_equal(before, after)
    z2[i - h] += 1.0
    assert not np.array_equal(before, next(c for j, c, _ in walk(z2, h, 20.0) if j == i))


def test_the_likelihood_tells_a_t_copula_from_a_gaussian():
    rng = np.random.default_rng(3)
    n, T = 8, 600
    corr = np.full((n, n), 0.4) + 0.6 * np.eye(n)
    g = multivariate_normal(np.zeros(n), corr).rvs(T, random_state=rng)
    t = g / np.sqrt(rng.chisquare(3, size=(T, 1)) / 3)
    from scipy.stats import t as student
    t_scores = norm.ppf(student.cdf(t, 3))
    assert choose(g, 1, (126.0,), score_from=200)["best"][1] in (None, 30.0, 15.0)
    assert choose(t_scores, 1, (126.0,), score_from=200)["best"][1] in (3.0, 4.0, 5.0)
    assert loglik(np.full(n, np.nan), corr, None) == 0.0


def test_real_outcomes_scores_give_the_correlations_markets_are_known_for(panel):
    """The random walk's forecasts on real data (SPY, AAPL, XLF, TLT, 2019-2023): stocks
    move with the market, Treasuries do not follow them."""
    symbols = ["SPY", "AAPL", "XLF", "TLT"]
    rows = adapt(random_walk_backtest(panel[panel["symbol"].isin(symbols)], "2019-01-01"))
    z = outcome_scores(rows, 1)
    assert list(z.columns) == sorted(symbols) and len(z) > 1000
    assert np.nanstd(z.values) == pytest.approx(1.0, abs=0.25)  # the forecasts' spread, roughly right
    state = EwmaCorrelation(len(symbols), halflife=250)
    for row in z.values:
        state.update(row)
    corr, _ = state.correlation()
    at = {s: i for i, s in enumerate(z.columns)}
    assert corr[at["SPY"], at["XLF"]] > 0.7 and corr[at["SPY"], at["AAPL"]] > 0.6
    assert corr[at["SPY"], at["TLT"]] < 0.3


def test_a_book_answer_states_its_copula_and_a_failed_member_fails_it_naming_the_symbol():
    request = PortfolioRequest(weights={"SPY": 0.6, "TLT": 0.4, "NEW": 0.1}, forecast_horizons=[1, 5])
    results = [served(s, v, risk_scale=1.0)[0] for s, v in (("NEW", 0.03), ("SPY", 0.012), ("TLT", 0.009))]
    dep = Dependence(("SPY", "TLT"), date(2023, 12, 29), 5.0, 63.0,
                     {1: np.array([[1, -0.3], [-0.3, 1]]), 5: np.array([[1, -0.2], [-0.2, 1]])}, {1: 0.1, 5: 0.1}, "m")
    out = answer(request, "p", results, dep, "m", 3.0)
    assert out.status == "ok" and out.dependence.family == "t" and out.dependence.uncovered == ["NEW"]
    assert [h.horizon for h in out.horizons] == [1, 5]
    h1 = out.horizons[0]
    assert sum(h1.contributions["0.99"].values()) == pytest.approx(h1.value_at_risk["0.99"])
    assert h1.expected_shortfall["0.99"] > h1.value_at_risk["0.99"] > h1.value_at_risk["0.95"] > 0
    assert Dependence.from_json(dep.to_json()).correlation[5] == pytest.approx(dep.correlation[5])
    bad = error_result(request=members(request, "p")[0], request_id="p:NEW", model_version="m",
                       code="unknown_symbol", message="no bars have been received for NEW")
    failed = answer(request, "p", [bad, *results[1:]], dep, "m", 3.0)
    assert failed.status == "error" and failed.error.code == "unknown_symbol" and "NEW" in failed.error.message


@pytest.mark.parametrize("body, why", [
    ('{"weights": {}}', "at least 1"),
    ('{"weights": {"SPY": NaN}}', "finite"),
    ('{"weights": {"SPY": 0.0, "TLT": 0}}', "all zero"),
    ('{"weights": {"SPY": 1}, "levels": [0.3]}', "levels"),
    ('{"weights": {"SPY": 1}, "forecast_horizons": [2]}', "unknown horizon"),
    ('{"weights": {"SPY": "x"}}', "weights"),
    ('{"weights": {' + ",".join(f'"S{i}": 1' for i in range(MAX_BOOK_SYMBOLS + 1)) + "}}", "at most 500"),
])
def test_bad_books_are_refused_with_the_reason(body, why):
    with pytest.raises(SchemaError, match=why):
        decode(PortfolioRequest, body)
