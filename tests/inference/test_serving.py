"""The serving steps against the real Redis: a base per symbol and bar, redeliveries
answered identically, failures confined to their requests."""
import time

import pytest

from features.window import append_bar
from inference.baseline import RandomWalkForecaster
from inference.config import InferenceConfig
from inference.service import ForecastService
from inference.serving import Ask, Serving
from persistence.cache import Backoff, RedisGate, SharedValues
from schemas import ForecastRequest, encode
from tests.helpers import NO_CONTEXT, bar, window_of

pytestmark = pytest.mark.integration


class Exploding:
    version = "exploding-1"
    min_history = 10
    horizons = (1, 5, 10, 21)
    quantiles = (0.1, 0.25, 0.5, 0.75, 0.9)

    def predict(self, items):
        raise RuntimeError("weights are NaN")


def serving(redis_client, forecaster=None, limits=None) -> Serving:
    backoff = Backoff(1.0)
    service = ForecastService(forecaster or RandomWalkForecaster(63), InferenceConfig(max_wait_ms=1),
                              shared=SharedValues(redis_client, "t:dist:", 60, backoff))
    return Serving(service, RedisGate(redis_client, limits or {"free": 0}, "free", 60, backoff))


def ask(window, request_id, symbol="SPY", **kw) -> Ask:
    return Ask(ForecastRequest(symbol=symbol, request_id=request_id, **kw), request_id, window,
               NO_CONTEXT, time.monotonic())


async def test_a_symbol_is_forecast_once_per_bar_whatever_the_requests(redis_client, panel):
    s = serving(redis_client)
    w = window_of(panel, "SPY", "2023-12-28", 300)
    out = await s.serve([ask(w, f"a{i}", forecast_horizons=[[1], [5, 21], [1, 5, 10, 21]][i % 3])
                         for i in range(30)])
    assert all(o.result.status == "ok" for o in out) and s.service.computed == 1
    assert {o.result.forecasts[0].horizon for o in out} == {1, 5}
    await s.serve([ask(w, "a30")])
    assert s.service.computed == 1
    newer = append_bar(w, bar("SPY", "2023-12-29", 475, 477, 474, 476), 300)
    (o,) = await s.serve([ask(newer, "a31")])
    assert s.service.computed == 2 and o.result.as_of.isoformat() == "2023-12-29"


async def test_another_worker_takes_the_distribution_from_redis(redis_client, panel):
    w = window_of(panel, "AAPL", "2023-12-29", 300)
    first, second = serving(redis_client), serving(redis_client)
    (a,) = await first.serve([ask(w, "w1", symbol="AAPL")])
    (b,) = await second.serve([ask(w, "w2", symbol="AAPL")])
    assert second.service.computed == 0
    assert a.result.forecasts == b.result.forecasts


async def test_a_redelivered_request_gets_the_same_answer_byte_for_byte(redis_client, panel):
    w = window_of(panel, "SPY", "2023-12-29", 300)
    (first,) = await serving(redis_client).serve([ask(w, "dup-1")])
    # a restarted worker: nothing held in memory, the same Redis
    (again,) = await serving(redis_client).serve([ask(w, "dup-1")])
    assert encode(again.result) == encode(first.result)


async def test_over_the_limit_is_refused_with_when_to_retry_and_so_again_on_redelivery(redis_client, panel):
    s = serving(redis_client, limits={"free": 2})
    w = window_of(panel, "SPY", "2023-12-29", 300)
    out = await s.serve([ask(w, f"r{i}") for i in range(3)])
    assert [o.result.status for o in out] == ["ok", "ok", "error"]
    err = out[2].result.error
    assert err.code == "rate_limited" and 59 < err.retry_after_s <= 60
    (again,) = await s.serve([ask(w, "r2")])
    assert encode(again.result) == encode(out[2].result)


async def test_a_model_failure_is_an_error_for_its_requests_only(redis_client, panel):
    s = serving(redis_client, forecaster=Exploding())
    w = window_of(panel, "SPY", "2023-12-29", 100)
    out = await s.serve([ask(w, "boom-1"), ask(None, "boom-2", symbol="NOPE")])
    assert out[0].result.error.code == "internal_error" and "weights are NaN" in out[0].result.error.message
    assert out[1].result.error.code == "unknown_symbol"


async def test_a_base_computed_while_redis_was_away_is_shared_once_it_is_back(redis_client, panel):
    w = window_of(panel, "TLT", "2023-12-29", 300)
    s = serving(redis_client)
    s.gate.backoff.failed("test", OSError("away"))
    s.gate.backoff.retry_s = 3600
    await s.serve([ask(w, "u1", symbol="TLT")])
    assert await redis_client.keys("t:dist:*") == []
    s.gate.backoff.succeeded()
    await s.serve([ask(w, "u2", symbol="TLT")])  # held: served from memory, and now shared
    late = serving(redis_client)
    await late.serve([ask(w, "u3", symbol="TLT")])
    assert s.service.computed == 1 and late.service.computed == 0
    assert len(await redis_client.keys("t:dist:*")) == 1
