"""Rolling statistics: TA-Lib where the series is clean, a sliding window after a gap."""
import numpy as np
import pytest

from features import calendar, rolling


def reference(x: np.ndarray, n: int, fn) -> np.ndarray:
    out = np.full(len(x), np.nan)
    for t in range(n - 1, len(x)):
        out[t] = fn(x[t - n + 1:t + 1])
    return out


@pytest.fixture
def gappy() -> np.ndarray:
    """Leading NaNs (not listed yet), then a feed that stopped for three days."""
    x = np.random.default_rng(0).normal(100, 5, 120)
    x[:7] = np.nan
    x[50:53] = np.nan
    return x


@pytest.mark.parametrize("stat, fn", [
    (rolling.mean, np.mean), (rolling.total, np.sum), (rolling.std, lambda v: np.std(v, ddof=1)),
    (rolling.maximum, np.max), (rolling.minimum, np.min)])
@pytest.mark.parametrize("gap", [False, True])
def test_statistics_match_the_definition_and_recover_n_values_after_a_gap(stat, fn, gap, gappy):
    x = gappy if gap else gappy[53:]
    got, want = stat(x, 20), reference(x, 20, fn)
    np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True)
    assert np.isfinite(got[-1])
    if gap:
        assert np.isnan(got[50:72]).all() and np.isfinite(got[72:]).all()


@pytest.mark.parametrize("gap_in", ["x", "y"])
def test_correlation_recovers_after_a_gap_in_either_series(gap_in, gappy):
    other = np.random.default_rng(1).normal(size=len(gappy))
    x, y = (gappy, other) if gap_in == "x" else (other, gappy)
    got = rolling.corr(y, x, 30)
    for t in (82, 100, 119):
        np.testing.assert_allclose(got[t], np.corrcoef(y[t - 29:t + 1], x[t - 29:t + 1])[0, 1], rtol=1e-9)
    assert np.isnan(got[50:82]).all()


def test_a_series_without_any_value_gives_nan_not_an_error():
    assert np.isnan(rolling.mean(np.full(30, np.nan), 5)).all()
    assert np.isnan(rolling.corr(np.full(30, np.nan), np.ones(30), 5)).all()


def test_diff_and_lag_shift_with_nan_in_front():
    x = np.array([1.0, 4.0, 9.0])
    np.testing.assert_array_equal(rolling.diff(x), [np.nan, 3.0, 5.0])
    np.testing.assert_array_equal(rolling.lag(x, 2), [np.nan, np.nan, 1.0])
    assert np.isnan(rolling.lag(x, 5)).all()


def test_calendar_table_for_sessions_equals_the_formula_and_other_days_still_work():
    s = calendar.sessions()
    days = s[(s >= np.datetime64("2019-11-20")) & (s <= np.datetime64("2020-01-10"))]
    table = calendar.compute(days)
    formula = calendar._compute(days, np.searchsorted(s, days))
    for name in formula:
        np.testing.assert_array_equal(table[name], formula[name], err_msg=name)
    christmas = calendar.compute(np.array(["2019-12-24", "2019-12-25", "2019-12-26"], dtype="datetime64[D]"))
    assert christmas["pre_holiday"][0] == 1 and christmas["post_holiday"][2] == 1
