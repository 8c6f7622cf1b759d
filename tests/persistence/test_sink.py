import asyncpg
import pytest

from inference.baseline import RandomWalkForecaster
from inference.config import InferenceConfig
from inference.service import ForecastService
from persistence.repositories.forecast_metrics import ForecastMetricsRepository
from persistence.sink import MetricsSink
from schemas import ForecastRequest
from tests.helpers import NO_CONTEXT, window_of

pytestmark = pytest.mark.integration


@pytest.fixture
async def outcome(panel):
    svc = ForecastService(RandomWalkForecaster(63), InferenceConfig(max_wait_ms=1))
    w = window_of(panel, "SPY", "2023-12-29", 300)
    req = ForecastRequest(symbol="SPY", user_id="alice", request_id="sink-1")
    return req, (await svc.forecast(req, "sink-1", w, NO_CONTEXT)).result, float(w.close[-1])


async def test_a_result_written_twice_leaves_one_row_per_horizon(pool, outcome):
    req, res, close = outcome
    sink = MetricsSink(pool, flush_rows=100)
    for _ in range(2):
        sink.add(req, res, close, "kafka")
        assert await sink.flush() == 1
    async with pool.acquire() as conn:
        rows = await ForecastMetricsRepository(conn).for_request(request_id="sink-1")
        assert [r["horizon"] for r in rows] == [1, 5, 10, 21]
        assert rows[0]["q10"] < rows[0]["q50"] < rows[0]["q90"]
        audit = await conn.fetch("SELECT user_id, status FROM prediction_audit WHERE request_id = 'sink-1'")
        assert [tuple(r) for r in audit] == [("alice", "ok")]
        assert await conn.fetchval(
            "SELECT count(*) FROM risk_adjustment_history WHERE request_id = 'sink-1'") == 1


async def test_a_failed_flush_keeps_its_rows_for_the_next(pool, outcome):
    req, res, close = outcome
    res = res.model_copy(update={"request_id": "sink-2"})
    sink = MetricsSink(pool, flush_rows=1)
    assert sink.add(req, res, close, "http") is True  # full at one row
    async with pool.acquire() as conn:
        await conn.execute("ALTER TABLE prediction_audit RENAME TO prediction_audit_away")
        try:
            with pytest.raises(asyncpg.UndefinedTableError):
                await sink.flush()
            assert sink.pending == 1
        finally:
            await conn.execute("ALTER TABLE prediction_audit_away RENAME TO prediction_audit")
    assert await sink.flush() == 1 and sink.pending == 0
