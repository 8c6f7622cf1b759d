"""One code path: the features of a streaming window equal those of the batch panel."""
import numpy as np
import pandas as pd
import pytest

from features.catalog import FEATURES, NAMES
from features.cross_asset import Context, is_context
from features.pipeline import build, symbol_matrix, to_window, window
from tests.features.conftest import SYMBOLS

WINDOW_BARS = 400
# Crises and calm: Lehman, the 2008 low, the 2020 crash and rebound, the 2022 bear, the end.
DATES = ["2008-09-15", "2008-11-20", "2010-05-06", "2014-06-10", "2015-12-23", "2020-03-16",
         "2020-03-23", "2020-04-09", "2022-06-16", "2023-12-29"]


def stream_window(bars: pd.DataFrame, symbol: str, day: str):
    g = bars[(bars["symbol"] == symbol) & (bars["date"] <= day)].tail(WINDOW_BARS)
    return to_window(symbol, g)


def stream_context(bars: pd.DataFrame, day: str) -> Context:
    """What the Faust table holds at the close of `day`: the last bars of each context symbol."""
    names = [s for s in set(bars["symbol"]) if is_context(s)]
    return Context.from_windows({s: stream_window(bars, s, day) for s in names})


@pytest.fixture(scope="module")
def batch(bars, context):
    return build(bars[bars["symbol"].isin(SYMBOLS)], context)


def test_there_are_at_least_sixty_documented_features():
    assert len(NAMES) >= 60
    assert all(f.description and f.group for f in FEATURES)


@pytest.mark.parametrize("day", DATES)
def test_window_equals_batch_for_every_feature(bars, batch, day):
    ctx = stream_context(bars, day)
    for symbol in SYMBOLS:
        expected = batch[(batch["symbol"] == symbol) & (batch["date"] == day)][list(NAMES)]
        assert len(expected) == 1, (symbol, day)
        got = window(stream_window(bars, symbol, day), ctx)
        np.testing.assert_allclose(got, expected.values[0], rtol=1e-9, atol=1e-10, equal_nan=True,
                                   err_msg=f"{symbol} {day}")


def test_features_at_t_do_not_change_when_the_future_does(bars, context):
    t = np.datetime64("2020-03-16")
    rng = np.random.default_rng(0)
    future = bars["date"].values.astype("datetime64[D]") > t
    shocked = bars.copy()
    factor = np.exp(rng.normal(0, 0.2, future.sum()))
    for col in ("open", "high", "low", "close"):
        shocked.loc[future, col] *= factor
    shocked.loc[future, "volume"] *= rng.uniform(0.1, 10, future.sum())
    for symbol in ("SPY", "JPM"):
        def upto(b, symbol=symbol):
            g = b[b["symbol"] == symbol]
            m = symbol_matrix(to_window(symbol, g), Context.from_bars(b))
            return m[g["date"].values.astype("datetime64[D]") <= t]
        before, after = upto(bars), upto(shocked)
        np.testing.assert_array_equal(before, after)
        # ... and the test can see a change: the shock does move features after t
        g = bars[bars["symbol"] == symbol]
        assert not np.allclose(symbol_matrix(to_window(symbol, g), context)[-1],
                               symbol_matrix(to_window(symbol, shocked[shocked["symbol"] == symbol]),
                                             Context.from_bars(shocked))[-1], equal_nan=True)


def test_a_symbol_listed_late_has_long_lookbacks_missing_until_it_has_the_history(bars, context):
    tlt = bars[bars["symbol"] == "TLT"]
    g = tlt[tlt["date"] >= "2005-01-01"].head(300)
    m = symbol_matrix(to_window("TLT", g), context)
    col = NAMES.index("ret_252")
    assert np.isnan(m[:252, col]).all() and np.isfinite(m[252:, col]).all()
    assert np.isfinite(m[:, NAMES.index("day_of_week")]).all()


def test_context_that_stops_arriving_goes_missing_instead_of_stale(bars):
    spy = bars[bars["symbol"] == "SPY"]
    g = spy[(spy["date"] > "2022-01-01") & (spy["date"] <= "2022-12-30")]
    ctx = Context.from_bars(bars[bars["date"] <= "2022-06-30"])  # every context feed stops
    m = symbol_matrix(to_window("SPY", g), ctx)
    days = g["date"].values.astype("datetime64[D]")
    vix = m[:, NAMES.index("vix_level")]
    assert np.isfinite(vix[days <= np.datetime64("2022-06-30")]).all()
    assert np.isnan(vix[days > np.datetime64("2022-07-15")]).all()


def test_a_halt_and_generated_bad_bars_do_not_break_the_pipeline(bars, context):
    """Generated edge cases: a two-week halt, a zero-range bar, a zero-volume day."""
    spy = bars[bars["symbol"] == "SPY"]
    g = spy[(spy["date"] > "2019-01-01") & (spy["date"] <= "2020-12-31")].copy()
    g = g[(g["date"] < "2020-06-01") | (g["date"] > "2020-06-14")]  # halted
    i = g.index[-5]
    g.loc[i, ["open", "high", "low"]] = g.loc[i, "close"]  # zero range
    g.loc[g.index[-3], "volume"] = 0.0
    m = symbol_matrix(to_window("SPY", g), context)
    assert m.shape == (len(g), len(NAMES))
    assert not np.isinf(m).any()
    # the zero-range bar has a defined close location and intraday range
    row = m[list(g.index).index(i)]
    assert row[NAMES.index("intraday_range")] == 0 and row[NAMES.index("close_location")] == 0


def test_option_features_exist_only_where_chains_do(bars):
    iv = NAMES.index("iv_atm")
    with_chain = window(stream_window(bars, "AAPL", "2014-06-10"), stream_context(bars, "2014-06-10"))
    assert 0.05 < with_chain[iv] < 1.0
    assert np.isfinite(with_chain[NAMES.index("iv_rv_ratio")])
    without = window(stream_window(bars, "JPM", "2014-06-10"), stream_context(bars, "2014-06-10"))
    assert np.isnan(without[iv])  # no JPM chain: missing, masked for the model
    later = window(stream_window(bars, "AAPL", "2014-09-30"), stream_context(bars, "2014-09-30"))
    assert np.isnan(later[iv])  # months after the last chain: stale, so missing
