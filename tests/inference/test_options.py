"""What a forecast carries with include_options_greeks: AAPL's real chain of 2014-06-02
beside a forecast from AAPL's real bars to that day, and what it says without one."""
from datetime import date

import numpy as np
import pytest

from features.data import load_panel
from inference.baseline import RandomWalkForecaster
from inference.config import InferenceConfig
from inference.options import MAX_CHAIN_AGE_DAYS, implied
from inference.service import ForecastService
from inference.surface import fit_surface
from schemas import QUANTILE_KEYS, ForecastRequest
from tests.helpers import NO_CONTEXT, window_of
from tests.inference.test_surface import AAPL_DAY, chain_of


@pytest.fixture(scope="module")
def aapl(data_dir):
    chain = chain_of(data_dir, "AAPL", AAPL_DAY)
    return fit_surface(chain.quotes, AAPL_DAY, chain.spot, 0.0009)


@pytest.fixture(scope="module")
def window(data_dir):
    return window_of(load_panel(data_dir, ["AAPL"], start="2012-01-01"), "AAPL", str(AAPL_DAY), 300)


def test_the_implied_view_is_the_surfaces_at_each_horizon(aapl, window):
    last_close = float(window.close[-1])  # split-adjusted: the chain's strikes are not
    info, views = implied(aapl, "AAPL", window.last_date, last_close, (1, 5, 10, 21))
    assert (info.status, info.chain_as_of, info.spot, info.expiries) == ("ok", AAPL_DAY, aapl.spot, len(aapl.slices))
    spreads = []
    for h, v in views.items():
        q = np.array([v.quantiles[k] for k in QUANTILE_KEYS])
        assert np.all(np.diff(q) > 0) and q[0] < last_close < q[-1]
        # near the money, from the parity forward (the closes put it 0.8% under the spot quoted)
        median = np.log(v.quantiles["0.5"] / last_close)
        assert median == pytest.approx(np.log(aapl.forward(h / 252) / aapl.spot), abs=0.01)
        # the ATM straddle is worth about sqrt(2 / pi) sd of the move
        assert v.implied_move == pytest.approx(np.sqrt(2 / np.pi) * v.volatility, rel=0.03)
        assert v.straddle.strike > aapl.spot * 0.99 and abs(v.straddle.delta) < 0.1 and v.straddle.gamma > 0
        assert 0.1 < v.straddle.sigma < 0.5  # AAPL's implied vol in June 2014
        spreads.append(np.log(q[-1] / q[0]))
    assert np.all(np.diff(spreads) > 0)


def test_a_missing_or_old_chain_is_said_and_nothing_is_implied(aapl, window):
    info, views = implied(None, "AAPL", window.last_date, 20.0, (1, 5))
    assert (info.status, views) == ("no_chain", {}) and "options.quotes" in info.message
    later = date(2014, 6, 2 + MAX_CHAIN_AGE_DAYS + 1)
    info, views = implied(aapl, "AAPL", later, 20.0, (1, 5))
    assert (info.status, views, info.chain_as_of) == ("stale", {}, AAPL_DAY)
    assert "2014-06-02" in info.message and str(later) in info.message
    assert implied(aapl, "AAPL", date(2014, 6, 2 + MAX_CHAIN_AGE_DAYS), 20.0, (1,))[0].status == "ok"


async def test_a_forecast_carries_the_market_beside_the_model(aapl, window):
    held = {"AAPL": aapl}
    service = ForecastService(RandomWalkForecaster(63), InferenceConfig(max_wait_ms=1), surface_of=held.get)
    asked = ForecastRequest(symbol="AAPL", include_options_greeks=True, forecast_horizons=[21, 5])
    result = (await service.forecast(asked, "r", window, NO_CONTEXT)).result
    assert result.status == "ok" and result.options.status == "ok"
    for f in result.forecasts:
        assert f.options is not None and f.implied is not None  # the model's vol and the market's
        assert f.implied.quantiles != f.quantiles
    plain = (await service.forecast(asked.model_copy(update={"include_options_greeks": False}), "p", window,
                                    NO_CONTEXT)).result
    assert plain.options is None and all(f.implied is None for f in plain.forecasts)
    held.clear()  # the surface goes: the answer says so, from the same base
    gone = (await service.forecast(asked, "g", window, NO_CONTEXT)).result
    assert gone.status == "ok" and gone.options.status == "no_chain" and all(f.implied is None for f in gone.forecasts)
