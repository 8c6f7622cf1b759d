"""The metrics sink: served forecasts written to PostgreSQL in batches, one transaction each.

The rows come from the `forecast.ledger` topic, and its offsets are committed only
after the transaction, so a row lives in Kafka until it lives in PostgreSQL. Every
insert is keyed on the request id: a batch written twice (a redelivery after a crash)
leaves the rows it left the first time. A record that PostgreSQL refuses for its data
is set apart, so that one bad record cannot hold up every row behind it.
"""
import asyncpg

from persistence.repositories import forecast_metrics, prediction_audit
from persistence.repositories.validation import ValidationRepository, pending_rows
from schemas import ServedForecast


async def write(pool: asyncpg.Pool, served: list[ServedForecast]) -> int:
    """Rows for every served request, all or none; returns the requests written."""
    metrics, audit = [], []
    for s in served:
        audit.append(prediction_audit.row(s.request, s.result, s.source))
        if s.result.status == "ok":
            metrics.extend(forecast_metrics.rows(s.result, s.last_close))
    async with pool.acquire() as conn, conn.transaction():
        await forecast_metrics.ForecastMetricsRepository(conn).insert_many(rows=metrics)
        await ValidationRepository(conn).add_pending(pending_rows(metrics))  # scored once their outcome comes
        await prediction_audit.PredictionAuditRepository(conn).insert_many(rows=audit)
    return len(served)


# Refused for what a record holds, not for where PostgreSQL is: writing it again fails again.
REFUSED = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)


async def write_apart(pool: asyncpg.Pool, served: list[ServedForecast]) -> tuple[int, list[tuple[int, str]]]:
    """(requests written, [(index, reason)] of those PostgreSQL refused): the batch in one
    transaction or, when a record of it is refused, each record in its own."""
    try:
        return await write(pool, served), []
    except REFUSED:
        pass
    written, refused = 0, []
    for i, s in enumerate(served):
        try:
            written += await write(pool, [s])
        except REFUSED as e:
            refused.append((i, f"PostgreSQL refused its rows: {type(e).__name__}: {e}"))
    return written, refused
