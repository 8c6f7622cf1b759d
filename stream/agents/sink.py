"""forecast.ledger -> PostgreSQL: forecast_metrics, prediction_audit, risk and regime rows.

A batch is acknowledged only after its transaction commits. While PostgreSQL is away
the agent retries the batch it holds; the backlog waits in Kafka (Faust pauses a
partition whose stream buffer is full), not in memory, and forecasts keep flowing.
A record PostgreSQL refuses for its data goes to `forecast.ledger.dlq` with the reason.
"""
import asyncio
import logging

import asyncpg

from persistence.sink import write_apart
from schemas import SchemaError, ServedForecast, decode
from stream import metrics
from stream.app import app, settings
from stream.batches import batches
from stream.dlq import send_dead_letter
from stream.lifecycle import resources
from stream.topics import FORECAST_LEDGER, forecast_ledger

log = logging.getLogger(__name__)
_p = settings.persistence


@app.agent(forecast_ledger)
async def write_served(stream):
    async for events in batches(stream, _p.sink_batch, _p.sink_within_s):
        await resources.opened()
        served, kept = [], []
        for event in events:
            try:
                served.append(decode(ServedForecast, event.value))
                kept.append(event)
            except SchemaError as e:  # a record no version of ours wrote: set apart, never a stalled sink
                await send_dead_letter(event, FORECAST_LEDGER, str(e))
        events = kept
        while True:
            try:
                written, refused = await write_apart(resources.pool, served)
                metrics.sink_rows_total.inc(written)
                for i, reason in refused:
                    await send_dead_letter(events[i], FORECAST_LEDGER, reason)
                break
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                metrics.sink_errors_total.inc()
                log.warning("metrics sink: %d served requests wait for PostgreSQL (%s: %s)",
                            len(served), type(e).__name__, e)
                await asyncio.sleep(_p.sink_retry_s)
