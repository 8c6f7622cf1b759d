from datetime import date

import numpy as np
import pytest

from features.quality import QualityConfig, bar_problems, fits_window, window_problem
from features.window import BarWindow
from tests.helpers import bar, window_of

CFG = QualityConfig()
TODAY = date(2024, 1, 3)


@pytest.mark.parametrize("changes, reason", [
    (dict(c=120.0), "outside the day's range"),  # close above the high
    (dict(o=98.0), "outside the day's range"),  # open below the low
    (dict(h=1e308, c=1e308), "a price above"),
    (dict(v=1e15), "volume above"),
    (dict(ts="1800-01-02"), "before 1900-01-01"),
    (dict(ts="2999-01-04"), "after today's session"),
])
def test_impossible_bars_are_named(changes, reason):
    assert any(reason in p for p in bar_problems(bar(**{"ts": "2024-01-02", **changes}), CFG, TODAY))


def test_a_real_bar_and_a_context_series_open_outside_its_range_pass():
    assert bar_problems(bar(ts="2024-01-02"), CFG, TODAY) == []
    assert bar_problems(bar(ts="2024-01-04"), CFG, TODAY) == []  # a day ahead: time zones
    # CBOE's VIX opens outside its day's range in the real data
    assert bar_problems(bar("VIX", "2024-01-02", o=14.0, h=13.5, lo=12.9, c=13.2), CFG, TODAY) == []


def test_a_bar_must_not_rewrite_history_or_jump(panel):
    w = window_of(panel, "SPY", "2023-12-29", 50)
    last = float(w.close[-1])
    assert "history is not rewritten" in fits_window(bar(ts="2023-12-28", c=last), w, CFG, 50)
    assert "older than the window keeps" in fits_window(bar(ts="2020-01-02", c=last), w, CFG, 50)
    assert "older than the window keeps" in fits_window(bar(ts="2020-01-02", c=last), w, CFG, 60)
    first = w.dates[0] - np.timedelta64(3, "D")  # not full: a bar just before its first fills
    assert fits_window(bar(ts=first.astype(object).isoformat(), c=last), w, CFG, 60) is None
    gap = BarWindow(w.symbol, np.delete(w.dates, -3), *(np.delete(getattr(w, c), -3) for c in
                                                        ("open", "high", "low", "close", "volume")))
    missing = w.dates[-3].astype(object).isoformat()
    assert fits_window(bar(ts=missing, o=w.open[-3], h=w.high[-3], lo=w.low[-3], c=w.close[-3]), gap, CFG, 50) is None
    assert fits_window(bar(ts="2023-12-29", o=last, h=last + 1, lo=last - 1, c=last), w, CFG, 50) is None
    assert fits_window(bar(ts="2024-01-02", o=last, h=last * 1.1, lo=last * 0.95, c=last * 1.05), w, CFG, 50) is None
    ten_x = bar(ts="2024-01-02", o=last * 10, h=last * 10, lo=last * 10, c=last * 10)
    assert "log move of +2.30" in fits_window(ten_x, w, CFG, 50)
    assert fits_window(ten_x, None, CFG, 50) is None  # nothing to compare with yet


def test_the_real_panel_holds_no_bar_that_would_be_refused(panel):
    for symbol, g in panel.groupby("symbol"):
        w = None
        for r in g.itertuples(index=False):
            b = bar(symbol, r.date, r.open, r.high, r.low, r.close, r.volume)
            assert bar_problems(b, CFG, TODAY) == [], (symbol, r.date)
            assert fits_window(b, w, CFG, 50) is None, (symbol, r.date)
            w = BarWindow(symbol, np.array([np.datetime64(b.day, "D")]), *(np.array([x]) for x in
                          (r.open, r.high, r.low, r.close, r.volume)))


def test_a_window_with_a_bad_bar_says_what_is_wrong(panel):
    w = window_of(panel, "SPY", "2023-12-29", 50)
    assert window_problem(w) is None
    close = w.close.copy()
    close[-3] = np.inf
    bad = BarWindow(w.symbol, w.dates, w.open, w.high, w.low, close, w.volume)
    assert "not finite and positive" in window_problem(bad)
