from datetime import date
from typing import NamedTuple

import asyncpg
import orjson

from persistence.queries import queries
from persistence.repositories.base import RowsRepository
from schemas import QUANTILE_KEYS, ForecastResult

_SQL = queries("forecast_metrics")


class MetricRow(NamedTuple):
    """A forecast_metrics row. Its fields are the insert's columns, in their order: the
    query takes its column list from here, so values cannot land in another column."""

    request_id: str
    horizon: int
    symbol: str
    as_of: date
    model_version: str
    last_close: float
    point: float
    q10: float
    q25: float
    q50: float
    q75: float
    q90: float
    intervals: str  # JSON
    volatility: float
    prob_up: float
    regime: str | None
    latency_ms: float
    interval_scale: float


def rows(result: ForecastResult, last_close: float) -> list[MetricRow]:
    """One row per horizon of an ok result; error results have no forecast to record."""
    regime = result.regime.name if result.regime else None
    scale = result.risk.interval_scale if result.risk else 1.0
    return [
        MetricRow(request_id=result.request_id, horizon=f.horizon, symbol=result.symbol, as_of=result.as_of,
                  model_version=result.model_version, last_close=last_close, point=f.point,
                  **{f"q{round(float(k) * 100)}": f.quantiles[k] for k in QUANTILE_KEYS},
                  intervals=orjson.dumps(f.intervals).decode(), volatility=f.volatility, prob_up=f.prob_up,
                  regime=regime, latency_ms=result.latency_ms, interval_scale=scale)
        for f in result.forecasts
    ]


class ForecastMetricsRepository(RowsRepository):
    insert_sql = _SQL["insert_many"].format(
        columns=", ".join(MetricRow._fields),
        values=", ".join(f"${i}" for i in range(1, len(MetricRow._fields) + 1)))

    async def for_request(self, *, request_id: str) -> list[asyncpg.Record]:
        return await self.conn.fetch(_SQL["for_request"], request_id)
