import asyncio

import numpy as np
import pytest

from features.cross_asset import Context
from inference.baseline import RandomWalkForecaster
from inference.config import InferenceConfig
from inference.greeks import risk_free_rate
from inference.service import ForecastService, HeldLevels
from schemas import QUANTILE_KEYS, ForecastRequest
from tests.helpers import NO_CONTEXT, window_of


@pytest.fixture
def service():
    return ForecastService(RandomWalkForecaster(63), InferenceConfig(max_wait_ms=1))


def request(**kw):
    return ForecastRequest(symbol=kw.pop("symbol", "SPY"), **kw)


async def test_ok_result_follows_the_contract(service, panel):
    w = window_of(panel, "SPY", "2023-12-29", 300)
    req = request(forecast_horizons=[21, 1], confidence_intervals=[0.95, 0.5, 0.68])
    out = await service.forecast(req, "r1", w, NO_CONTEXT)
    res = out.result
    assert res.status == "ok" and res.as_of.isoformat() == "2023-12-29"
    assert res.model_version == "baseline-rw-1" and res.disclaimer
    assert [f.horizon for f in res.forecasts] == [21, 1]
    for f in res.forecasts:
        q = [f.quantiles[k] for k in QUANTILE_KEYS]
        assert q == sorted(q) and f.point > 0
        (l50, h50), (l68, h68), (l95, h95) = (f.intervals[k] for k in ("0.5", "0.68", "0.95"))
        assert l95 < l68 < l50 <= f.quantiles["0.5"] <= h50 < h68 < h95
        assert 0 <= f.prob_up <= 1


async def test_unknown_symbol_and_short_history_are_error_results(service, panel):
    res = (await service.forecast(request(symbol="ZZZ"), "r2", None, NO_CONTEXT)).result
    assert res.status == "error" and res.error.code == "unknown_symbol"
    short = window_of(panel, "SPY", "2023-12-29", 10)
    res = (await service.forecast(request(), "r3", short, NO_CONTEXT)).result
    assert res.error.code == "insufficient_history" and "10 bars" in res.error.message


async def test_a_volatility_spike_widens_intervals_and_a_change_of_level_is_told_once(panel):
    service = ForecastService(RandomWalkForecaster(63), InferenceConfig(max_wait_ms=1, risk_rules=("vol_spike",)))
    calm = window_of(panel, "SPY", "2020-02-19", 300)  # the top before the covid crash
    spike = window_of(panel, "SPY", "2020-03-16", 300)
    first = await service.forecast(request(risk_adjustment=False), "a", spike, NO_CONTEXT)
    (event,) = first.risk_events  # the first forecast from the new window tells the change
    assert (event.level, event.previous, event.request_id) == ("high", None, "a")
    assert event.interval_scale > 1.25 and "volatility" in event.message
    adjusted = await service.forecast(request(), "b", spike, NO_CONTEXT)
    assert adjusted.risk_events == ()  # told already
    assert first.result.risk is None and adjusted.result.risk.level == "high"
    spike_rule = next(r for r in adjusted.result.risk.rules if r.name == "vol_spike")
    assert spike_rule.applied and spike_rule.factor == adjusted.result.risk.interval_scale
    assert adjusted.result.risk.var_95 > adjusted.result.risk.raw_var_95
    width = lambda f: f.intervals["0.95"][1] - f.intervals["0.95"][0]
    assert width(adjusted.result.forecasts[0]) > width(first.result.forecasts[0])
    (back,) = (await service.forecast(request(), "c", calm, NO_CONTEXT)).risk_events
    assert (back.level, back.previous) == ("normal", "high")


async def test_a_service_that_starts_again_reads_the_levels_told_before_it(panel):
    """A restart, or the symbol's partition moving to another worker: the levels told live
    outside the service (PostgreSQL in a worker), so a change is told once, not twice or never."""
    told, config = HeldLevels(), InferenceConfig(max_wait_ms=1, risk_rules=("vol_spike",))
    calm = window_of(panel, "SPY", "2020-02-19", 300)
    spike = window_of(panel, "SPY", "2020-03-16", 300)
    before = ForecastService(RandomWalkForecaster(63), config, told=told)
    (event,) = (await before.forecast(request(), "a", spike, NO_CONTEXT)).risk_events
    assert told.levels == {"SPY": "high"}
    after = ForecastService(RandomWalkForecaster(63), config, told=told)
    assert (await after.forecast(request(), "b", spike, NO_CONTEXT)).risk_events == ()
    (back,) = (await after.forecast(request(), "c", calm, NO_CONTEXT)).risk_events
    assert (back.level, back.previous) == ("normal", "high")
    forgetful = ForecastService(RandomWalkForecaster(63), config)  # what a worker did when it kept them in memory
    assert (await forgetful.forecast(request(), "d", calm, NO_CONTEXT)).risk_events == ()


async def test_concurrent_requests_are_scored_in_one_batch(panel):
    sizes = []
    svc = ForecastService(RandomWalkForecaster(63), InferenceConfig(max_wait_ms=20),
                          on_batch=lambda n, s: sizes.append(n))
    windows = [window_of(panel, s, "2023-06-30", 100) for s in ("SPY", "AAPL", "TLT", "XLF")]
    outs = await asyncio.gather(*(svc.forecast(request(symbol=w.symbol), w.symbol, w, NO_CONTEXT)
                                  for w in windows))
    assert sizes == [4]
    assert [o.result.symbol for o in outs] == ["SPY", "AAPL", "TLT", "XLF"]
    assert len({np.round(o.result.forecasts[0].volatility, 8) for o in outs}) == 4


async def test_results_carry_the_market_regime_and_the_symbols_own(panel, data_dir):
    from features.data import load
    from regime.book import fit_book
    from regime.hmm import RegimeConfig
    data = load(data_dir)
    context = Context.from_bars(data.context)
    book = fit_book(data.panel[data.panel["symbol"].isin(["SPY", "AAPL", "TLT", "GLD"])], context, "2019-12-31",
                    RegimeConfig(max_series=2))
    svc = ForecastService(RandomWalkForecaster(63), InferenceConfig(max_wait_ms=1), regime=book)
    day = np.datetime64("2020-03-20")
    ctx = Context({**context.until(day).series, "SPY": (lambda w: (w.dates, w.close))(
        window_of(panel, "SPY", "2020-03-20", 300))})
    res = (await svc.forecast(request(symbol="AAPL"), "g1", window_of(panel, "AAPL", "2020-03-20", 300), ctx)).result
    assert res.regime.name == "Crisis" and 0.5 < res.regime.confidence <= 1  # the market's, out of sample
    assert res.symbol_regime.name == "Crisis"
    calm = (await svc.forecast(request(symbol="TLT"), "g2", window_of(panel, "TLT", "2017-06-30", 300),
                               Context(context.until(np.datetime64("2017-06-30")).series))).result
    assert calm.symbol_regime is not None and calm.regime is None  # no SPY in that context
    assert (await svc.forecast(request(symbol="AAPL"), "g3", window_of(panel, "AAPL", "2020-03-20", 300),
                               NO_CONTEXT)).result.symbol_regime is None  # an equity without VIX


async def test_options_greeks_are_priced_at_the_forecast_volatility_when_asked(service, panel):
    w = window_of(panel, "SPY", "2023-12-29", 300)
    days = np.array(["2023-12-27", "2023-12-28"], dtype="datetime64[D]")
    context = Context({"DFF": (days, np.array([5.33, 5.31]))})
    plain = (await service.forecast(request(forecast_horizons=[5]), "g1", w, context)).result
    assert plain.forecasts[0].options is None
    res = (await service.forecast(request(include_options_greeks=True), "g2", w, context)).result
    spot = float(w.close[-1])
    for f in res.forecasts:
        o = f.options
        assert o.strike == spot and o.rate == pytest.approx(0.0531)
        assert o.sigma * np.sqrt(o.years) == pytest.approx(f.volatility) and o.years == f.horizon / 252
        # put-call parity, and the deltas and gammas of a call and a put at one strike
        assert o.call.price - o.put.price == pytest.approx(spot * (1 - np.exp(-o.rate * o.years)), rel=1e-6)
        assert o.call.delta - o.put.delta == pytest.approx(1.0) and o.call.gamma == pytest.approx(o.put.gamma)
        # at the money, a straddle costs about 0.8 S sigma sqrt(T) (the rate moves call and put apart)
        assert o.call.price + o.put.price == pytest.approx(0.8 * spot * f.volatility, rel=0.02)
        assert o.call.theta < 0 and o.call.vega > 0
    longer = [f.options.call.price for f in sorted(res.forecasts, key=lambda f: f.horizon)]
    assert longer == sorted(longer)
    assert risk_free_rate(NO_CONTEXT) == 0.0


async def test_a_window_holding_a_bad_bar_is_refused_with_the_reason_and_others_are_served(service, panel):
    good = window_of(panel, "AAPL", "2023-12-29", 300)
    w = window_of(panel, "SPY", "2023-12-29", 300)
    close = w.close.copy()
    close[-5] = float("nan")
    bad = type(w)(w.symbol, w.dates, w.open, w.high, w.low, close, w.volume)
    res = (await service.forecast(request(), "bad-1", bad, NO_CONTEXT)).result
    assert res.error.code == "bad_data" and "not finite and positive" in res.error.message
    assert (await service.forecast(request(symbol="AAPL"), "ok-1", good, NO_CONTEXT)).result.status == "ok"


class FailsFor(RandomWalkForecaster):
    """A model that cannot take one symbol's input (and so fails any batch holding it)."""

    def predict(self, items):
        if any(w.symbol == "TLT" for w, _ in items):
            raise FloatingPointError("TLT's window overflows the model")
        return super().predict(items)


async def test_a_model_failure_on_one_input_fails_only_that_symbol(panel):
    svc = ForecastService(FailsFor(63), InferenceConfig(max_wait_ms=1))
    pairs = [(window_of(panel, s, "2023-12-29", 100), NO_CONTEXT) for s in ("SPY", "TLT", "AAPL")]
    spy, tlt, aapl = await svc.bases(pairs)
    assert isinstance(tlt, FloatingPointError)
    assert spy.dist.horizons == aapl.dist.horizons == (1, 5, 10, 21)
