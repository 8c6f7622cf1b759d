import asyncpg
import pytest

from persistence.repositories.forecast_metrics import ForecastMetricsRepository
from persistence.sink import write, write_apart
from schemas import ForecastRequest, ServedForecast

pytestmark = pytest.mark.integration


async def test_a_result_written_twice_leaves_one_row_per_horizon(pool, served):
    for _ in range(2):
        assert await write(pool, [served]) == 1
    async with pool.acquire() as conn:
        rows = await ForecastMetricsRepository(conn).for_request(request_id="sink-1")
        assert [r["horizon"] for r in rows] == [1, 5, 10, 21]
        assert rows[0]["q10"] < rows[0]["q50"] < rows[0]["q90"]
        audit = await conn.fetch("SELECT user_id, status FROM prediction_audit WHERE request_id = 'sink-1'")
        assert [tuple(r) for r in audit] == [("alice", "ok")]
        scales = await conn.fetch("SELECT interval_scale FROM forecast_metrics WHERE request_id = 'sink-1'")
        assert {r["interval_scale"] for r in scales} == {served.result.risk.interval_scale}


async def test_a_failed_write_leaves_no_row_of_its_batch(pool, served):
    other = served.model_copy(update={"result": served.result.model_copy(update={"request_id": "sink-2"})})
    async with pool.acquire() as conn:
        await conn.execute("ALTER TABLE prediction_audit RENAME TO prediction_audit_away")
        try:
            with pytest.raises(asyncpg.UndefinedTableError):
                await write(pool, [other])
        finally:
            await conn.execute("ALTER TABLE prediction_audit_away RENAME TO prediction_audit")
        # forecast_metrics is written first in the transaction, and rolled back with it
        assert await conn.fetchval("SELECT count(*) FROM forecast_metrics WHERE request_id = 'sink-2'") == 0
    assert await write(pool, [other]) == 1


async def test_a_record_postgres_refuses_is_set_apart_and_the_rest_written(pool, served):
    good = [served.model_copy(update={"result": served.result.model_copy(update={"request_id": f"apart-{i}"})})
            for i in range(3)]
    # Past the schema's check, as a record written before it would be: NUL cannot enter text or jsonb.
    bad_request = ForecastRequest.model_construct(**{**served.request.model_dump(), "user_id": "a\x00b"})
    bad = ServedForecast.model_construct(**{**dict(good[1]), "request": bad_request,
                                            "result": served.result.model_copy(update={"request_id": "apart-bad"})})
    written, refused = await write_apart(pool, [good[0], bad, good[1], good[2]])
    assert written == 3
    assert [i for i, _ in refused] == [1] and "PostgreSQL refused" in refused[0][1]
    async with pool.acquire() as conn:
        ids = {r["request_id"] for r in await conn.fetch(
            "SELECT request_id FROM prediction_audit WHERE request_id LIKE 'apart-%'")}
    assert ids == {"apart-0", "apart-1", "apart-2"}
