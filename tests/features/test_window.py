import numpy as np
import pytest

from features.window import BarWindow, append_bar, extend
from tests.helpers import bar, window_of


def test_bars_are_kept_in_date_order_and_trimmed():
    w = None
    for day in ["2024-01-03", "2024-01-05", "2024-01-04", "2024-01-08"]:
        w = append_bar(w, bar(ts=day, c=float(day[-2:])), max_len=3)
    assert [str(d) for d in w.dates] == ["2024-01-04", "2024-01-05", "2024-01-08"]
    assert list(w.close) == [4.0, 5.0, 8.0]


def test_a_bar_for_a_held_date_replaces_it():
    w = append_bar(None, bar(ts="2024-01-03", c=1.0), 5)
    w = append_bar(w, bar(ts="2024-01-03", c=2.0), 5)
    assert len(w) == 1 and w.close[0] == 2.0


def test_a_bar_older_than_a_full_window_is_dropped():
    w = None
    for day in ["2024-01-03", "2024-01-04"]:
        w = append_bar(w, bar(ts=day), 2)
    assert append_bar(w, bar(ts="2024-01-02"), 2) is w


def test_bytes_round_trip_is_exact(panel):
    w = window_of(panel, "AAPL", "2020-03-31", 300)
    back = BarWindow.from_bytes(w.to_bytes())
    assert back.symbol == "AAPL" and len(back) == 300
    for name in ("dates", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(back, name), getattr(w, name))
    assert str(back.last_date) == "2020-03-31"


def test_truncated_bytes_are_refused(panel):
    raw = window_of(panel, "SPY", "2020-03-31", 50).to_bytes()
    with pytest.raises(ValueError, match="not an encoded BarWindow"):
        BarWindow.from_bytes(raw[:-8])


@pytest.mark.parametrize("held, max_len", [(0, 512), (100, 512), (500, 512), (100, 50)])
def test_a_run_of_later_bars_extends_a_window_as_one_bar_at_a_time_would(panel, held, max_len):
    rows = panel[panel["symbol"] == "AAPL"].tail(held + 120)
    bars = [bar("AAPL", r.date, r.open, r.high, r.low, r.close, r.volume) for r in rows.itertuples(index=False)]
    start = None
    for b in bars[:held]:
        start = append_bar(start, b, max_len)
    one_by_one = start
    for b in bars[held:]:
        one_by_one = append_bar(one_by_one, b, max_len)
    at_once = extend(start, bars[held:], max_len)
    for name in ("dates", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(at_once, name), getattr(one_by_one, name))
    assert at_once.symbol == "AAPL" and at_once.to_bytes() == one_by_one.to_bytes()
