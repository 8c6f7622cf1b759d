"""Attention in the answer: from the forward pass that made the forecast, not a second one."""
import numpy as np
import pytest

from features.catalog import KNOWN, OBSERVED
from inference.baseline import RandomWalkForecaster
from inference.config import InferenceConfig
from inference.models import DEFAULT_ARTIFACT, TFTForecaster
from inference.service import ForecastService, distribution_from_bytes, distribution_to_bytes
from schemas import ForecastRequest
from tests.helpers import NO_CONTEXT, window_of


@pytest.fixture(scope="module")
def tft_service():
    return ForecastService(TFTForecaster(DEFAULT_ARTIFACT), InferenceConfig(max_wait_ms=1))


async def test_attention_comes_with_the_forecast_from_the_same_pass(tft_service, panel):
    svc = tft_service
    w = window_of(panel, "AAPL", "2023-12-29", 400)
    plain = (await svc.forecast(ForecastRequest(symbol="AAPL"), "a1", w, NO_CONTEXT)).result
    before = svc.computed
    asked = (await svc.forecast(ForecastRequest(symbol="AAPL", include_attention=True, forecast_horizons=[5, 21]),
                                "a2", w, NO_CONTEXT)).result
    assert svc.computed == before  # the base's pass: no second forward for the weights
    assert plain.attention_weights is None
    att = asked.attention_weights
    assert set(att.temporal_attention) == {"5", "21"}
    E = svc.forecaster.artifact.spec.encoder_length
    days = [str(d) for d in w.dates[-E:]]
    for h, weights in att.temporal_attention.items():
        assert list(weights) == days  # the encoder's past sessions, oldest first, ending on as_of
        assert sum(weights.values()) == pytest.approx(1.0) and min(weights.values()) >= 0
    assert list(att.feature_attention) == [*OBSERVED, *KNOWN]
    assert sum(att.feature_attention.values()) == pytest.approx(1.0)
    # the forecasts themselves are the same with or without the weights
    by_h = {f.horizon: f for f in plain.forecasts}
    assert all(f.quantiles == by_h[f.horizon].quantiles for f in asked.forecasts)


async def test_the_weights_differ_between_horizons_and_symbols(tft_service, panel):
    w_aapl, w_tlt = window_of(panel, "AAPL", "2023-12-29", 400), window_of(panel, "TLT", "2023-12-29", 400)
    req = lambda s: ForecastRequest(symbol=s, include_attention=True)
    a = (await tft_service.forecast(req("AAPL"), "b1", w_aapl, NO_CONTEXT)).result.attention_weights
    t = (await tft_service.forecast(req("TLT"), "b2", w_tlt, NO_CONTEXT)).result.attention_weights
    assert list(a.temporal_attention["1"].values()) != list(a.temporal_attention["21"].values())
    assert a.feature_attention != t.feature_attention


async def test_a_shared_distribution_keeps_its_weights(tft_service, panel):
    w = window_of(panel, "SPY", "2023-12-29", 400)
    (base,) = await tft_service.bases([(w, NO_CONTEXT)])
    again = distribution_from_bytes(distribution_to_bytes(base.dist))
    assert np.array_equal(again.temporal, base.dist.temporal) and np.array_equal(again.selection, base.dist.selection)
    plain = (await ForecastService(RandomWalkForecaster(63), InferenceConfig()).bases([(w, NO_CONTEXT)]))[0].dist
    assert distribution_from_bytes(distribution_to_bytes(plain)).temporal is None


async def test_a_model_without_attention_answers_without_weights(panel):
    svc = ForecastService(RandomWalkForecaster(63), InferenceConfig(max_wait_ms=1))
    res = (await svc.forecast(ForecastRequest(symbol="SPY", include_attention=True), "c1",
                              window_of(panel, "SPY", "2023-12-29", 300), NO_CONTEXT)).result
    assert res.status == "ok" and res.attention_weights is None
