"""regime.events and risk.events -> PostgreSQL: each change of a symbol's regime
(market_regime_history) and of its risk level (risk_adjustment_history), kept.

Regime heartbeats are not kept: every symbol's state is in the symbol_regimes table. A
batch is acknowledged only after its rows are written; while PostgreSQL is away the
agent retries it and the backlog waits in Kafka. A value that is not one of these events
goes to the topic's dead-letter topic, and the rest of its batch is kept.
"""
import asyncio
import logging
from collections.abc import Callable

import asyncpg

from persistence.repositories import market_regime_history, risk_adjustment_history
from schemas import RegimeEvent, RiskEvent, SchemaError, decode
from stream.app import app, settings
from stream.batches import batches
from stream.dlq import send_dead_letter
from stream.lifecycle import resources
from stream.topics import REGIME_EVENTS, RISK_EVENTS, regime_events, risk_events

log = logging.getLogger(__name__)
_p = settings.persistence


async def keep(stream, topic: str, schema, row: Callable, repository, wanted: Callable = lambda e: True) -> None:
    async for events in batches(stream, _p.sink_batch, _p.sink_within_s):
        await resources.opened()
        rows = []
        for event in events:
            try:
                news = decode(schema, event.value)
            except SchemaError as e:  # not one of ours: set apart
                await send_dead_letter(event, topic, str(e))
                continue
            if wanted(news):
                rows.append(row(news))
        while rows:
            try:
                async with resources.pool.acquire() as conn:
                    await repository(conn).insert_many(rows=rows)
                break
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                log.warning("%d rows of %s wait for PostgreSQL (%s: %s)", len(rows), topic, type(e).__name__, e)
                await asyncio.sleep(_p.sink_retry_s)


@app.agent(regime_events)
async def keep_regime_changes(stream):
    await keep(stream, REGIME_EVENTS, RegimeEvent, market_regime_history.row,
               market_regime_history.MarketRegimeRepository, lambda e: e.kind == "change")


@app.agent(risk_events)
async def keep_risk_changes(stream):
    await keep(stream, RISK_EVENTS, RiskEvent, risk_adjustment_history.row,
               risk_adjustment_history.RiskAdjustmentRepository)
