import pytest

from persistence.cache import ForecastCache, RateLimiter, cache_key
from schemas import ForecastRequest, ForecastResult

pytestmark = pytest.mark.integration


async def test_cache_round_trip_and_key_depends_on_window_and_options(redis_client):
    cache = ForecastCache(redis_client, ttl_s=60)
    req = ForecastRequest(symbol="SPY")
    key = cache_key("m1", req, b"window-a")
    assert key != cache_key("m1", req, b"window-b")
    assert key != cache_key("m1", req.model_copy(update={"forecast_horizons": [1]}), b"window-a")
    assert key != cache_key("m2", req, b"window-a")
    assert await cache.get(key) is None
    res = ForecastResult(request_id="r", symbol="SPY", model_version="m1", status="ok")
    await cache.put(key, res)
    assert await cache.get(key) == res
    assert 0 < await redis_client.ttl(key) <= 60


async def test_rate_limits_follow_the_user_tier(redis_client):
    limiter = RateLimiter(redis_client, {"free": 3, "internal": 0}, "free")
    assert [(await limiter.allow("bob"))[0] for _ in range(4)] == [True, True, True, False]
    await redis_client.hset(RateLimiter.TIERS_KEY, "carol", "internal")
    assert all([(await limiter.allow("carol"))[0] for _ in range(10)])
