"""A failure inside the model becomes an error result for that request only."""
import time

import asyncpg
import pytest
import redis.asyncio as redis

from inference.config import InferenceConfig
from inference.service import ForecastService
from persistence.cache import ForecastCache, RateLimiter
from persistence.migrate import migrate
from persistence.sink import MetricsSink
from schemas import ForecastRequest
from stream.runtime import Runtime
from stream.settings import load_settings
from tests.helpers import NO_CONTEXT, window_of
from tests.services import fresh_database, redis_settings

pytestmark = pytest.mark.integration


class Exploding:
    version = "exploding-1"
    min_history = 10

    def predict(self, items):
        raise RuntimeError("weights are NaN")


async def test_a_model_failure_is_an_error_result_and_is_audited(panel):
    host, port, db = redis_settings()
    client = redis.Redis(host=host, port=port, db=db)
    async with fresh_database() as url:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        async with pool.acquire() as conn:
            await migrate(conn)
        runtime = Runtime(settings=load_settings({}), pool=pool, redis=client,
                          service=ForecastService(Exploding(), InferenceConfig(max_wait_ms=1)),
                          sink=MetricsSink(pool, 100), cache=ForecastCache(client, 60),
                          limiter=RateLimiter(client, {"free": 0}, "free"))
        w = window_of(panel, "SPY", "2023-12-29", 100)
        req = ForecastRequest(symbol="SPY", request_id="boom-1", user_id="ops")
        outcome = await runtime.serve(req, "boom-1", w, NO_CONTEXT, "kafka", time.perf_counter())
        assert outcome.result.status == "error"
        assert outcome.result.error.code == "internal_error"
        assert "weights are NaN" in outcome.result.error.message
        await runtime.flush()
        async with pool.acquire() as conn:
            assert await conn.fetchval(
                "SELECT error_code FROM prediction_audit WHERE request_id = 'boom-1'") == "internal_error"
        await pool.close()
    await client.aclose()
