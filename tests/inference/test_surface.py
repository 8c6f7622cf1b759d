"""The implied-volatility surface on real chains: SPX on 2011-01-24 (bids and asks) and
AAPL on 2014-06-02 (end-of-day closes)."""
from datetime import date

import numpy as np
import pandas as pd
import pytest
from vollib.black import black
from vollib.black_scholes_merton import black_scholes_merton

from features.data import find
from inference.surface import MAX_REL_SPREAD, fit_surface, forwards, implied

SPX_DAY, SPX_SPOT, RATE = date(2011, 1, 24), 1290.59, 0.0017  # fed funds on the day


@pytest.fixture(scope="module")
def spx_chain(data_dir):
    d = pd.read_csv(find(data_dir, "spx_option_quotes_2011"))
    return pd.DataFrame({"expiry": pd.to_datetime(d["dtExpiry"]).dt.date, "strike": d["Strike"].astype(float),
                         "right": d["Type"], "bid": d["PBid"], "ask": d["PAsk"]})


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
    lean = pd.read_csv(find(data_dir, "lean_option_chains"))
    g = lean[(lean["underlying"] == "AAPL") & (lean["date"] == "2014-06-02") & (lean["close"] > 0)]
    chain = pd.DataFrame({"expiry": pd.to_datetime(g["expiry"].astype(str)).dt.date, "strike": g["strike"],
                          "right": g["right"].str.upper().str[0], "bid": g["close"], "ask": g["close"]})
    aapl = fit_surface(chain, date(2014, 6, 2), float(g["underlying_close"].iloc[0]), 0.0009)
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
