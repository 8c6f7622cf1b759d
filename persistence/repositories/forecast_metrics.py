import asyncpg
import orjson

from persistence.queries import queries
from schemas import QUANTILE_KEYS, ForecastResult

_SQL = queries("forecast_metrics")


def rows(result: ForecastResult, last_close: float) -> list[tuple]:
    """One row per horizon of an ok result; error results have no forecast to record."""
    regime = result.regime.name if result.regime else None
    scale = result.risk.interval_scale if result.risk else 1.0
    return [
        (result.request_id, f.horizon, result.symbol, result.as_of, result.model_version, last_close,
         f.point, *(f.quantiles[q] for q in QUANTILE_KEYS),
         orjson.dumps(f.intervals).decode(), f.volatility, f.prob_up, regime, result.latency_ms, scale)
        for f in result.forecasts
    ]


class ForecastMetricsRepository:
    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn

    async def insert_many(self, *, rows: list[tuple]) -> None:
        await self.conn.executemany(_SQL["insert_many"], rows)

    async def for_request(self, *, request_id: str) -> list[asyncpg.Record]:
        return await self.conn.fetch(_SQL["for_request"], request_id)
