"""Adaptive intervals: the online rule, nested intervals, and the walk-forward on real
forecasts (the seasoned random walk's on SPY and TLT, 2020-2023) learning only from
outcomes that had come."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from inference.adaptive import adapt, scores
from inference.conformal import LEVELS, AdaptiveScales, intervals
from schemas import QUANTILES
from tft.evaluate import attach_outcomes


def test_the_scales_widen_after_misses_and_narrow_after_hits():
    s = AdaptiveScales(gamma=0.1)
    s.update(np.ones((10, len(LEVELS)), dtype=bool))
    assert np.all(s.scales(LEVELS) > 1)
    wide = s.scales(LEVELS).copy()
    s.update(np.zeros((10, len(LEVELS)), dtype=bool))
    assert np.all(s.scales(LEVELS) < wide)
    # at the nominal miss rate nothing moves
    s2 = AdaptiveScales(gamma=0.1)
    s2.update(np.array([[i < 5, i < 3, i < 2, False] for i in range(10)]))
    assert np.allclose(s2.log_scale, 0.1 * (np.array([0.5, 0.3, 0.2, 0.0]) - (1 - np.array(LEVELS))))


def test_intervals_stay_nested_whatever_the_scales():
    q = norm.ppf(QUANTILES)[None, :] * 0.02  # a Gaussian forecast
    lo, hi = intervals(q, LEVELS, np.array([2.0, 0.5, 1.0, 0.6]))
    assert np.all(np.diff(lo[0]) <= 0) and np.all(np.diff(hi[0]) >= 0)
    lo1, hi1 = intervals(q, [0.68], np.ones(1))
    assert hi1[0, 0] == pytest.approx(0.02, rel=0.02) and lo1[0, 0] == pytest.approx(-0.02, rel=0.02)


def random_walk_backtest(panel: pd.DataFrame, start: str) -> pd.DataFrame:
    """The random walk's forecasts as backtest rows, halved in spread: too narrow on purpose."""
    rows = attach_outcomes(pd.DataFrame({"symbol": panel["symbol"], "date": panel["date"], "horizon": 1,
                                         "close": panel["close"]}).query("date >= @start"), panel)
    z = norm.ppf(QUANTILES)
    q = rows["close"].values[:, None] * np.exp(0.5 * rows["rw_sigma"].values[:, None] * z[None, :])
    return rows.assign(**{f"q{round(l * 100)}": q[:, i] for i, l in enumerate(QUANTILES)}, point=rows["close"])


def test_walked_forward_the_scales_mend_intervals_too_narrow(panel):
    bt = random_walk_backtest(panel[panel["symbol"].isin(["SPY", "TLT"])], "2020-01-02")
    adapted = adapt(bt, gamma=0.05)
    first = adapted[adapted["date"] == adapted["date"].min()]
    assert np.all(first[["s_50", "s_68", "s_80", "s_95"]].values == 1.0)  # nothing known on the first day
    s = scores(adapted).iloc[0]
    assert s["cov_68"] < 0.5 and s["cov_95"] < 0.75  # halved: far too narrow
    for c in (50, 68, 80, 95):
        assert abs(s[f"adapted_{c}"] - c / 100) < 0.03, (c, s[f"adapted_{c}"])
    assert s["pinball_adapted"] < s["pinball"]
    # a day's forecasts for the next session settle at the next close: change their outcomes
    # and every scale served up to that day stays, while the next day's moves
    days = np.sort(bt["date"].unique())
    moved = adapt(bt.assign(y=np.where(bt["date"] == days[300], 1.0, bt["y"])), gamma=0.05)
    before = adapted["date"] <= days[300]
    assert moved.loc[before, "s_68"].equals(adapted.loc[before, "s_68"])
    after = adapted["date"] == days[301]
    assert np.all(moved.loc[after, "s_68"].values > adapted.loc[after, "s_68"].values)


async def test_a_served_forecast_carries_the_learnt_scales(panel):
    from inference.baseline import RandomWalkForecaster
    from inference.config import InferenceConfig
    from inference.service import ForecastService
    from schemas import ForecastRequest
    from tests.helpers import NO_CONTEXT, window_of
    learnt = {"gen": (0, {})}
    service = ForecastService(RandomWalkForecaster(63), InferenceConfig(max_wait_ms=1),
                              scales_of=lambda version: learnt["gen"])
    w = window_of(panel, "SPY", "2023-12-29", 300)
    asked = ForecastRequest(symbol="SPY", forecast_horizons=[5], confidence_intervals=[0.68, 0.95],
                            risk_adjustment=False)
    plain = (await service.forecast(asked, "a", w, NO_CONTEXT)).result.forecasts[0]
    assert plain.interval_scales is None
    log_scales = np.log([1.1, 1.2, 1.3, 1.5])  # at 50, 68, 80, 95%
    learnt["gen"] = (1, {5: log_scales})
    wide = (await service.forecast(asked, "b", w, NO_CONTEXT)).result.forecasts[0]
    assert wide.interval_scales == pytest.approx({"0.5": 1.1, "0.68": 1.2, "0.8": 1.3, "0.95": 1.5})
    mid = plain.quantiles["0.5"]
    for level, scale in (("0.68", 1.2), ("0.95", 1.5)):
        (lo, hi), (lo0, hi0) = wide.intervals[level], plain.intervals[level]
        assert np.log(hi / mid) == pytest.approx(scale * np.log(hi0 / mid), rel=1e-9)
        assert np.log(lo / mid) == pytest.approx(scale * np.log(lo0 / mid), rel=1e-9)
    assert np.log(wide.quantiles["0.9"] / mid) == pytest.approx(1.3 * np.log(plain.quantiles["0.9"] / mid))
