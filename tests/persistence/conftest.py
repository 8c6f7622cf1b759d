import asyncpg
import pytest

from inference.baseline import RandomWalkForecaster
from inference.config import InferenceConfig
from inference.service import ForecastService
from schemas import ForecastRequest, ServedForecast
from tests.helpers import NO_CONTEXT, window_of


@pytest.fixture
async def pool(database_url):
    from persistence.migrate import migrate
    p = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    async with p.acquire() as conn:
        await migrate(conn)
    yield p
    await p.close()


@pytest.fixture
async def served(panel):
    svc = ForecastService(RandomWalkForecaster(63), InferenceConfig(max_wait_ms=1))
    w = window_of(panel, "SPY", "2023-12-29", 300)
    req = ForecastRequest(symbol="SPY", user_id="alice", request_id="sink-1")
    result = (await svc.forecast(req, "sink-1", w, NO_CONTEXT)).result
    return ServedForecast(request=req, result=result, source="kafka", last_close=float(w.close[-1]))
