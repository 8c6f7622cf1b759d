"""forecast.ledger -> PostgreSQL: forecast_metrics, prediction_audit, risk and regime rows.

A batch is acknowledged only after its transaction commits. While PostgreSQL is away
the agent retries the batch it holds; the backlog waits in Kafka (Faust pauses a
partition whose stream buffer is full), not in memory, and forecasts keep flowing.
A record PostgreSQL refuses for its data goes to `forecast.ledger.dlq` with the reason.
"""
import asyncio
import logging
from collections.abc import Awaitable, Callable

from persistence import AWAY
from persistence.sink import write_apart
from schemas import SchemaError, ServedForecast, decode
from stream import metrics
from stream.batches import batches
from stream.dlq import send_dead_letter
from stream.topics import FORECAST_LEDGER, forecast_ledger

log = logging.getLogger(__name__)


async def until_written(write: Callable[[], Awaitable], retry_s: float, waiting: str) -> object:
    """`write()`'s value once PostgreSQL takes it, retried every `retry_s` while it is away."""
    while True:
        try:
            return await write()
        except AWAY as e:
            metrics.sink_errors_total.inc()
            log.warning("%s wait for PostgreSQL (%s: %s)", waiting, type(e).__name__, e)
            await asyncio.sleep(retry_s)


def install(rt) -> None:
    p = rt.settings.persistence

    @rt.app.agent(forecast_ledger)
    async def write_served(stream):
        async for events in batches(stream, p.sink_batch, p.sink_within_s):
            await rt.opened()
            served, kept = [], []
            for event in events:
                try:
                    served.append(decode(ServedForecast, event.value))
                    kept.append(event)
                except SchemaError as e:  # a record no version of ours wrote: set apart, never a stalled sink
                    await send_dead_letter(rt.delivery, event, FORECAST_LEDGER, str(e))
            written, refused = await until_written(lambda: write_apart(rt.pool, served), p.sink_retry_s,
                                                   f"metrics sink: {len(served)} served requests")
            metrics.sink_rows_total.inc(written)
            for i, reason in refused:
                await send_dead_letter(rt.delivery, kept[i], FORECAST_LEDGER, reason)
