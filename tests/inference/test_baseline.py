"""The random walk on real SPY data: its intervals must be roughly calibrated, or it
is not the honest baseline it claims to be."""
import numpy as np

from inference.baseline import RandomWalkForecaster
from tests.helpers import NO_CONTEXT, window_of


def test_one_day_intervals_cover_close_to_nominal_on_real_spy(panel):
    spy = panel[panel["symbol"] == "SPY"].reset_index(drop=True)
    model = RandomWalkForecaster(vol_window=63)
    hits68 = hits95 = n = 0
    for t in range(300, len(spy) - 1, 5):  # every 5th day of 2016-2023
        w = window_of(spy, "SPY", spy["date"].iloc[t], model.min_history)
        (dist,) = model.predict([(w, NO_CONTEXT)])
        lo68, lo95, hi68, hi95 = dist.at(np.array([0.16, 0.025, 0.84, 0.975]))[0]
        realized = np.log(spy["close"].iloc[t + 1] / spy["close"].iloc[t])
        hits68 += lo68 <= realized <= hi68
        hits95 += lo95 <= realized <= hi95
        n += 1
    assert n > 350
    # Fat tails and volatility clustering make a Gaussian random walk slightly off; it
    # must still be in the neighbourhood of nominal, not wildly mis-scaled.
    assert 0.64 < hits68 / n < 0.85, hits68 / n
    assert 0.91 < hits95 / n < 0.98, hits95 / n


def test_median_is_the_last_close_and_direction_is_a_coin(panel):
    w = window_of(panel, "AAPL", "2023-12-29", 100)
    (dist,) = RandomWalkForecaster(63).predict([(w, NO_CONTEXT)])
    assert np.all(dist.quantiles[:, 2] == 0) and np.all(dist.prob_up == 0.5)
    assert np.all(np.diff(dist.volatility) > 0)  # spread grows with the horizon
