import orjson
import pytest

from persistence.repositories.forecast_metrics import ForecastMetricsRepository, rows
from schemas import RegimeInfo

pytestmark = pytest.mark.integration


async def test_each_column_holds_the_value_of_its_name(pool, served):
    # a request no other test writes, in a regime: every column has a value of its own
    result = served.result.model_copy(update={"request_id": "metrics-1",
                                              "regime": RegimeInfo(name="Bear", confidence=0.7)})
    async with pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            await ForecastMetricsRepository(conn).insert_many(rows=rows(result, served.last_close))
            written = await conn.fetch("SELECT * FROM forecast_metrics WHERE request_id = $1 ORDER BY horizon",
                                       result.request_id)
        finally:
            await tr.rollback()
    assert len(written) == len(result.forecasts) == 4
    for f, back in zip(result.forecasts, written):
        expected = {"request_id": "metrics-1", "horizon": f.horizon, "symbol": "SPY", "as_of": result.as_of,
                    "model_version": result.model_version, "last_close": served.last_close, "point": f.point,
                    "q10": f.quantiles["0.1"], "q25": f.quantiles["0.25"], "q50": f.quantiles["0.5"],
                    "q75": f.quantiles["0.75"], "q90": f.quantiles["0.9"], "volatility": f.volatility,
                    "prob_up": f.prob_up, "regime": "Bear", "latency_ms": result.latency_ms,
                    "interval_scale": result.risk.interval_scale}
        assert {c: back[c] for c in expected} == expected
        assert orjson.loads(back["intervals"]) == orjson.loads(orjson.dumps(f.intervals))
