"""Data quality on the real panel: the report's figures, the live check of a bar equal to
the batch flags of the same day, and the generated edge cases each check is for."""
import numpy as np
import pandas as pd

from features.data import load_panel
from features.data_quality import CHECKS, flags, last_bar, report


def test_the_live_check_of_each_bar_is_the_batch_flag_of_its_day(data_dir):
    panel = load_panel(data_dir, ["NFLX", "HYG", "ORCL"], start="2004-01-01", end="2009-12-31")
    for _, g in panel.groupby("symbol"):
        dates, close = g["date"].values, g["close"].values.astype(float)
        batch = flags(dates, close)
        flagged = 0
        for i in range(70, len(g)):
            live = last_bar(dates[:i + 1], close[:i + 1])
            assert live == [c for c in CHECKS if batch[c][i]], (g["symbol"].iloc[0], g["date"].iloc[i])
            flagged += bool(live)
        assert flagged > 0  # earnings days and September 2008


def test_the_report_finds_what_the_panel_holds(data_dir):
    panel = load_panel(data_dir, ["SPY", "HYG", "NFLX"])
    r = report(panel).set_index("symbol")
    assert r.loc["HYG", "late_listing"] and str(r.loc["HYG", "first"]) == "2007-04-11"
    assert not r.loc["SPY", "late_listing"] and (r["missing_sessions"] == 0).all()
    assert "2008-09-15" in r.loc["HYG", "outlier_days"]  # Lehman


def test_each_check_catches_its_fault():
    days = pd.bdate_range("2023-01-03", periods=120).values.astype("datetime64[D]")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, len(days))))
    gap = np.delete(days, 80)  # a session dropped
    assert "missing_sessions" in last_bar(gap[:81], close[:81])
    frozen = close.copy()
    frozen[90:95] = frozen[90]
    assert "stale" in last_bar(days[:95], frozen[:95]) and "stale" not in last_bar(days[:94], frozen[:94])
    jump = close.copy()
    jump[100] *= 1.5
    assert "outlier" in last_bar(days[:101], jump[:101]) and "outlier" not in last_bar(days[:100], jump[:100])
