"""regime.events -> market_regime_history: each change of a symbol's regime, kept.

Heartbeats are not kept: the state of every symbol is in the symbol_regimes table. A
batch is acknowledged only after its rows are written; while PostgreSQL is away the
agent retries it, and the backlog waits in Kafka.
"""
import asyncio
import logging

import asyncpg

from persistence.repositories.market_regime_history import MarketRegimeRepository, row
from schemas import RegimeEvent, SchemaError, decode
from stream.app import app, settings
from stream.batches import batches
from stream.dlq import send_dead_letter
from stream.lifecycle import resources
from stream.topics import REGIME_EVENTS, regime_events

log = logging.getLogger(__name__)
_p = settings.persistence


@app.agent(regime_events)
async def keep_regime_changes(stream):
    async for events in batches(stream, _p.sink_batch, _p.sink_within_s):
        await resources.opened()
        rows = []
        for event in events:
            try:
                news = decode(RegimeEvent, event.value)
            except SchemaError as e:  # not one of ours: set apart, the rest kept
                await send_dead_letter(event, REGIME_EVENTS, str(e))
                continue
            if news.kind == "change":
                rows.append(row(news))
        while rows:
            try:
                async with resources.pool.acquire() as conn:
                    await MarketRegimeRepository(conn).insert_many(rows=rows)
                break
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                log.warning("%d regime changes wait for PostgreSQL (%s: %s)", len(rows), type(e).__name__, e)
                await asyncio.sleep(_p.sink_retry_s)
