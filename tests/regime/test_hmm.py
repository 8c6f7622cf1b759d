"""Regimes per symbol on real history: states named by a rule that survives refits,
filtered probabilities that never look ahead, crises where history had them."""
from datetime import date

import numpy as np
import orjson
import pytest

from features.cross_asset import Context
from features.data import load
from regime.book import EQUITY, OTHER, RegimeBook, advance, asset_class, fit_book, pooled, waits_for_context
from regime.hmm import REGIMES, RegimeConfig, name_states
from schemas import RegimeInfo

SYMBOLS = ["SPY", "QQQ", "XLF", "TLT", "GLD"]
CONFIG = RegimeConfig(max_series=3)


@pytest.fixture(scope="module")
def data(data_dir):
    d = load(data_dir)
    return d.panel[d.panel["symbol"].isin(SYMBOLS)], Context.from_bars(d.context)


@pytest.fixture(scope="module")
def book(data):
    return fit_book(*data, "2019-12-31", CONFIG)


def series(data, symbol: str, end: str = "2023-12-29"):
    bars = data[0][(data[0]["symbol"] == symbol) & (data[0]["date"] <= end)].sort_values("date")
    return bars["date"].values.astype("datetime64[D]"), bars["close"].values.astype(float)


def test_states_are_named_by_their_volatility_whatever_their_number_and_order():
    # columns: mean return, mean volatility
    assert name_states(np.array([[0.1, -2.0], [-0.2, -1.5], [0.0, -1.8], [-0.5, -0.5]])) == (
        "Bull", "Bear", "Sideways", "Crisis")
    assert name_states(np.array([[-0.1, 0.9], [0.05, -0.4]])) == ("Crisis", "Bull")
    assert name_states(np.array([[0.1, -1.0], [-0.2, 1.0], [-0.05, -0.2]])) == ("Bull", "Crisis", "Sideways")
    assert name_states(np.array([[0, -3], [0, 2], [0, -1], [0, 0], [0, -2]])) == (
        "Bull", "Crisis", "Sideways", "Bear", "Sideways")
    # the same states found in another order get the same names
    means = np.array([[0.05, -0.46], [0.05, 0.22], [0.04, -0.04], [-0.05, 0.77]])
    perm = [2, 0, 3, 1]
    assert [name_states(means[perm])[perm.index(s)] for s in range(4)] == list(name_states(means))


def test_the_number_of_states_is_the_one_bic_prefers(book):
    for model in book.models.values():
        assert set(model.bic) == set(CONFIG.states)
        assert len(model.labels) == min(model.bic, key=model.bic.get)
        assert "Crisis" in model.labels


def test_real_crises_come_out_crisis_for_spy_and_a_calm_year_does_not(book, data):
    path = book.path("SPY", *series(data, "SPY"), data[1]).set_index("date")["regime"]
    assert path.loc["2008-10-01":"2008-10-31"].eq("Crisis").mean() > 0.9
    assert path.loc["2020-03-09":"2020-03-31"].eq("Crisis").all()  # after the fit's end: out of sample
    assert path.loc["2017-01-01":"2017-12-31"].eq("Crisis").mean() < 0.05
    assert set(path.unique()) <= set(REGIMES)


def test_a_day_depends_only_on_earlier_days(book, data):
    days, close = series(data, "SPY", "2021-12-31")
    t = len(close) - 300
    shocked = close.copy()
    shocked[t + 1:] *= np.exp(np.random.default_rng(0).normal(0, 0.05, len(close) - t - 1)).cumprod()
    a = book.path("SPY", days, close, data[1])
    b = book.path("SPY", days, shocked, data[1])
    cut = a["date"] <= days[t]
    assert cut.sum() > 6500
    assert np.array_equal(a[cut].drop(columns="regime").values, b[cut].drop(columns="regime").values)
    assert not np.allclose(a[~cut]["Crisis"].values, b[~cut]["Crisis"].values)  # later days did move


def test_the_online_reading_is_the_last_filtered_day(book, data):
    days, close = series(data, "QQQ")
    window = slice(len(close) - 512, len(close))
    now = book.current("QQQ", days[window], close[window], data[1])
    path = book.path("QQQ", days[window], close[window], data[1])
    assert now.name == path["regime"].iloc[-1]
    assert now.confidence == pytest.approx(path["confidence"].iloc[-1], abs=1e-9)
    assert sum(now.probabilities.values()) == pytest.approx(1.0)


def test_names_do_not_swap_between_refits(book, data):
    # Another seed and two more years; the numbers of states the first fit's BIC chose are
    # given, since naming, not choosing, is what is tested (a third of the fitting).
    chosen = tuple(sorted({m.hmm.n_components for m in book.models.values()}))
    again = fit_book(*data, "2021-12-31", RegimeConfig(states=chosen, max_series=3, seed=11))
    for symbol in ("SPY", "TLT"):
        days, close = series(data, symbol)
        a = book.path(symbol, days, close, data[1]).set_index("date")["regime"].loc["2000":"2019"]
        b = again.path(symbol, days, close, data[1]).set_index("date")["regime"].loc["2000":"2019"]
        assert (a == b).mean() > 0.8, symbol


def test_the_book_round_trips_and_refuses_the_old_market_only_format(book, data):
    again = RegimeBook.from_dict(orjson.loads(orjson.dumps(book.to_dict())))
    days, close = series(data, "GLD")
    assert again.current("GLD", days, close, data[1]) == book.current("GLD", days, close, data[1])
    with pytest.raises(ValueError, match="fit-regimes"):
        RegimeBook.from_dict({"labels": ["Bull"], "startprob": [1.0]})


def test_each_symbol_is_read_by_its_class_and_context_series_are_not_read():
    assert [asset_class(s) for s in ("AAPL", "SPY", "XLF", "TLT", "GLD", "VIX", "DFF", "PCR_TOTAL")] == [
        EQUITY, EQUITY, EQUITY, OTHER, OTHER, None, None, None]
    assert pooled(["A", "B", "C", "D", "E", "SPY"], 3) == ["A", "E", "SPY"]


def test_an_equity_without_vix_in_its_context_has_no_regime_and_waits_for_it(book, data):
    days, close = series(data, "SPY")
    assert book.current("SPY", days, close, Context({})) is None and waits_for_context("SPY", days, Context({}))
    assert book.current("SPY", days, close, data[1]) is not None and not waits_for_context("SPY", days, data[1])
    # VIX up to the day before: read as known (a stale series only after days), so nothing to wait for
    before = data[1].until(days[-2])
    assert not waits_for_context("SPY", days, before) and book.current("SPY", days, close, before) is not None
    assert book.current("TLT", *series(data, "TLT"), Context({})) is not None  # not an equity: no VIX read
    assert not waits_for_context("TLT", series(data, "TLT")[0], Context({}))


def test_changes_and_heartbeats_count_sessions():
    bull, crisis = RegimeInfo(name="Bull", confidence=0.9), RegimeInfo(name="Crisis", confidence=0.8)
    first = advance(None, "SPY", date(2024, 1, 2), bull, "v1")
    assert (first.kind, first.since, first.sessions, first.previous) == ("change", date(2024, 1, 2), 1, None)
    beat = advance(first, "SPY", date(2024, 1, 3), bull, "v1")
    assert (beat.kind, beat.since, beat.sessions) == ("heartbeat", date(2024, 1, 2), 2)
    again = advance(beat, "SPY", date(2024, 1, 3), bull, "v1")  # a corrected bar of the same day
    assert again.sessions == 2
    turn = advance(beat, "SPY", date(2024, 1, 4), crisis, "v1")
    assert (turn.kind, turn.previous, turn.since, turn.sessions) == ("change", "Bull", date(2024, 1, 4), 1)
