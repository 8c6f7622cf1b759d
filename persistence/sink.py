"""The metrics sink: results are buffered and written in batches, one transaction each.

Every insert is keyed on the request id, so a batch written twice (a retry after a
crash, a request redelivered by Kafka) leaves the rows it left the first time.
"""
import logging

import asyncpg

from persistence.repositories import (forecast_metrics, market_regime_history, prediction_audit,
                                      risk_adjustment_history)
from schemas import ForecastRequest, ForecastResult

log = logging.getLogger(__name__)


class MetricsSink:
    def __init__(self, pool: asyncpg.Pool, flush_rows: int):
        self.pool = pool
        self.flush_rows = flush_rows
        self._metrics: list[tuple] = []
        self._audit: list[tuple] = []
        self._risk: list[tuple] = []
        self._regime: list[tuple] = []

    def add(self, request: ForecastRequest, result: ForecastResult, last_close: float | None,
            source: str) -> bool:
        """Buffer one result; True when the buffer is full and should be flushed."""
        self._audit.append(prediction_audit.row(request, result, source))
        if result.status == "ok":
            self._metrics.extend(forecast_metrics.rows(result, last_close))
            if (risk := risk_adjustment_history.row(result)) is not None:
                self._risk.append(risk)
            if (regime := market_regime_history.row(result)) is not None:
                self._regime.append(regime)
        return len(self._audit) >= self.flush_rows

    @property
    def pending(self) -> int:
        return len(self._audit)

    async def flush(self) -> int:
        if not self._audit:
            return 0
        metrics, audit, risk, regime = self._metrics, self._audit, self._risk, self._regime
        self._metrics, self._audit, self._risk, self._regime = [], [], [], []
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await forecast_metrics.ForecastMetricsRepository(conn).insert_many(rows=metrics)
                await prediction_audit.PredictionAuditRepository(conn).insert_many(rows=audit)
                await risk_adjustment_history.RiskAdjustmentRepository(conn).insert_many(rows=risk)
                await market_regime_history.MarketRegimeRepository(conn).insert_many(rows=regime)
        except (OSError, asyncpg.PostgresError):
            # Keep the rows for the next flush: the database being away must not lose them.
            self._metrics[:0], self._audit[:0], self._risk[:0], self._regime[:0] = metrics, audit, risk, regime
            log.exception("metrics sink: write failed, %d results kept for retry", len(audit))
            raise
        return len(audit)
