"""The implied-volatility surface on real chains: SPX on 2011-01-24 (bids and asks) and
AAPL on 2014-06-02 (end-of-day closes)."""
from datetime import date

import numpy as np
import pytest
from vollib.black import black
from vollib.black_scholes_merton import black_scholes_merton

from features.chains import chain_days
from inference.greeks import TRADING_DAYS
from inference.surface import MAX_REL_SPREAD, fit_chain, fit_surface, forwards, from_info, implied, to_info
from schemas import SurfaceInfo
from stream.publish import chain_event

SPX_DAY, SPX_SPOT, RATE = date(2011, 1, 24), 1290.59, 0.0017  # fed funds on the day
AAPL_DAY = date(2014, 6, 2)


def chain_of(data_dir, symbol: str, day: date):
    (found,) = [c for c in chain_days(data_dir, [symbol]) if c.as_of == day]
    return found


@pytest.fixture(scope="module")
def spx_chain(data_dir):
    found = chain_of(data_dir, "SPX", SPX_DAY)
    assert found.spot == SPX_SPOT
    return found.quotes


@pytest.fixture(scope="module")
def spx(spx_chain):
    return fit_surface(spx_chain, SPX_DAY, SPX_SPOT, RATE)


def test_one_forward_per_expiry_keeps_put_call_parity_within_the_quoted_spread(spx_chain):
    chain = spx_chain.assign(mid=(spx_chain["bid"] + spx_chain["ask"]) / 2)
    inside = []
    for f in forwards(chain, SPX_DAY, RATE).itertuples():
        quotes = chain[chain["expiry"] == f.expiry].pivot_table(index="strike", columns="right",
                                                                values=["bid", "ask"]).dropna()
        parity = np.exp(-f.rate * f.t) * (f.forward - quotes.index.values)  # C - P
        lo = quotes[("bid", "C")].values - quotes[("ask", "P")].values
        hi = quotes[("ask", "C")].values - quotes[("bid", "P")].values
        inside += list((lo - 1e-9 <= parity) & (parity <= hi + 1e-9))
    assert len(inside) > 400 and np.mean(inside) > 0.95


def test_implied_volatilities_reproduce_the_quoted_prices(spx_chain):
    chain = spx_chain.assign(mid=(spx_chain["bid"] + spx_chain["ask"]) / 2)
    q = implied(chain[(chain["ask"] - chain["bid"]) <= MAX_REL_SPREAD * chain["mid"]], SPX_DAY, RATE)
    assert len(q) > 300
    again = np.array([black(r.right.lower(), r.forward, r.strike, r.t, r.rate, r.iv) for r in q.itertuples()])
    assert np.allclose(again, q["mid"].values, rtol=1e-6, atol=1e-8)
    # the SPX smile: out-of-the-money puts dearer than calls the same distance away
    near = q[q["t"].between(0.1, 0.3)]
    assert near[near["k"] < -0.1]["iv"].mean() > near[near["k"] > 0.05]["iv"].mean() + 0.03


def test_the_svi_surface_fits_the_quotes_with_no_static_arbitrage(spx, data_dir):
    assert len(spx.slices) >= 8
    for s in spx.slices:
        fitted = np.sqrt(s.svi.w(s.quotes["k"].values) / s.t)
        assert np.sqrt(np.mean((fitted - s.quotes["iv"].values) ** 2)) < 0.02  # two vol points
    worst = spx.arbitrage()
    assert worst["butterfly_min_g"] >= 0 and worst["calendar_max_fall"] <= 0
    chain = chain_of(data_dir, "AAPL", AAPL_DAY)
    aapl = fit_surface(chain.quotes, AAPL_DAY, chain.spot, 0.0009)
    worst = aapl.arbitrage()
    assert len(aapl.slices) >= 8 and worst["butterfly_min_g"] >= 0 and worst["calendar_max_fall"] <= 0


def test_straddle_greeks_agree_with_finite_differences(spx):
    s = spx.straddle(21)
    r, q = s["rate"], s["dividend_yield"]
    price = lambda spot=SPX_SPOT, sigma=s["sigma"], t=s["years"]: sum(
        black_scholes_merton(flag, spot, s["strike"], t, r, sigma, q) for flag in "cp")
    h = SPX_SPOT * 1e-4
    assert price() == pytest.approx(s["price"], rel=1e-12)
    assert s["delta"] == pytest.approx((price(SPX_SPOT + h) - price(SPX_SPOT - h)) / (2 * h), abs=1e-4)
    assert s["gamma"] == pytest.approx((price(SPX_SPOT + h) - 2 * price() + price(SPX_SPOT - h)) / h ** 2, rel=1e-3)
    assert s["vega"] == pytest.approx((price(sigma=s["sigma"] + 1e-4) - price(sigma=s["sigma"] - 1e-4)) / 2e-4 / 100,
                                      rel=1e-4)  # per volatility point
    day = 1 / 365
    assert s["theta"] == pytest.approx((price(t=s["years"] - day) - price()), rel=2e-2)  # per calendar day
    assert s["implied_move"] == pytest.approx(s["price"] / SPX_SPOT)


def test_the_implied_distribution_is_the_surfaces_own(spx):
    levels = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
    q21 = spx.distribution(21, levels)
    assert np.all(np.diff(q21) > 0)
    assert np.all(np.diff([spx.distribution(h, levels)[-1] - spx.distribution(h, levels)[0]
                           for h in (1, 5, 10, 21)]) > 0)  # wider further out
    # the SPX skew: the left tail is longer than the right
    assert -q21[0] > q21[-1]
    # near the money the risk-neutral spread is the ATM vol's
    atm = float(spx.vol(spx.forward(21 / 252), 21 / 252))
    assert (q21[3] - q21[1]) == pytest.approx(2 * 0.6745 * atm * np.sqrt(21 / 252), rel=0.15)


def test_the_smiles_plot_is_written(spx, tmp_path):
    from inference.surface import plot_smiles
    path = plot_smiles(spx, tmp_path / "smiles.png", "SPX 2011-01-24")
    assert path.stat().st_size > 20_000


def test_the_closed_form_density_is_breeden_litzenberger_on_the_smile(spx):
    """N(-d2) + phi(d2) w'(k) / (2 sqrt(w)) against 1 + e^{rT} dC/dK taken numerically from
    Black-76 prices on the same smile."""
    levels = np.array([0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98])
    for h in (1, 5, 21, 63):
        t = h / TRADING_DAYS
        f = spx.forward(t)
        strikes = f * np.exp(np.linspace(-6, 6, 2401) * np.sqrt(spx.total_variance(np.array([0.0]), t)[0]))
        sigma = np.sqrt(spx.total_variance(np.log(strikes / f), t) / t)
        calls = np.array([black("c", f, k, t, spx.rate(t), s) for k, s in zip(strikes, sigma)])
        cdf = np.maximum.accumulate(np.clip(1 + np.exp(spx.rate(t) * t) * np.gradient(calls, strikes), 0, 1))
        numeric = np.log(np.interp(levels, cdf, strikes) / spx.spot)
        assert np.abs(spx.distribution(h, levels) - numeric).max() < 1e-5


def test_a_stored_surface_is_the_fitted_one(spx):
    stored = to_info(spx, "SPX", 1196, 1.0).model_dump_json()
    again = from_info(SurfaceInfo.model_validate_json(stored))
    levels = np.array([0.1, 0.5, 0.9])
    for h in (1, 10, 21, 200):
        assert np.array_equal(again.distribution(h, levels), spx.distribution(h, levels))
        assert again.straddle(h) == spx.straddle(h)
    assert again.arbitrage() == spx.arbitrage()


def test_a_chain_event_is_fitted_and_one_with_no_usable_expiry_says_why(data_dir):
    aapl = fit_chain(chain_event(chain_of(data_dir, "AAPL", AAPL_DAY)), rate=0.0009)
    assert aapl.symbol == "AAPL" and aapl.as_of == AAPL_DAY and len(aapl.smiles) >= 8
    assert all(s.quotes >= 6 for s in aapl.smiles)
    assert np.median([s.rmse_vol for s in aapl.smiles]) < 0.05  # trade closes, not quotes: some are stale
    # SPY's sample of 2023-12-29 holds a few deep in-the-money calls, two and four days out
    with pytest.raises(ValueError, match="usable quotes|no forward"):
        fit_chain(chain_event(chain_of(data_dir, "SPY", date(2023, 12, 29))), rate=0.053)
