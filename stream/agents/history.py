"""regime.events and risk.events -> PostgreSQL: each change of a symbol's regime
(market_regime_history) and of its risk level (risk_adjustment_history), kept.

Regime heartbeats are not kept: every symbol's state is in the symbol_regimes table. A
batch is acknowledged only after its rows are written; while PostgreSQL is away the
agent retries it and the backlog waits in Kafka. A value that is not one of these events
goes to the topic's dead-letter topic, and the rest of its batch is kept.
"""
from collections.abc import Callable

from persistence.repositories import market_regime_history, risk_adjustment_history
from schemas import RegimeEvent, RiskEvent, SchemaError, decode
from stream.agents.sink import until_written
from stream.batches import batches
from stream.dlq import send_dead_letter
from stream.topics import REGIME_EVENTS, RISK_EVENTS, regime_events, risk_events


async def keep(rt, stream, topic: str, schema, row: Callable, repository, wanted: Callable = lambda e: True) -> None:
    p = rt.settings.persistence
    async for events in batches(stream, p.sink_batch, p.sink_within_s):
        await rt.opened()
        rows = []
        for event in events:
            try:
                news = decode(schema, event.value)
            except SchemaError as e:  # not one of ours: set apart
                await send_dead_letter(rt.delivery, event, topic, str(e))
                continue
            if wanted(news):
                rows.append(row(news))
        if rows:
            await until_written(lambda: insert(rt.pool, repository, rows), p.sink_retry_s, f"{len(rows)} rows of {topic}")


async def insert(pool, repository, rows: list) -> None:
    async with pool.acquire() as conn:
        await repository(conn).insert_many(rows=rows)


def install(rt) -> None:
    @rt.app.agent(regime_events)
    async def keep_regime_changes(stream):
        await keep(rt, stream, REGIME_EVENTS, RegimeEvent, market_regime_history.row,
                   market_regime_history.MarketRegimeRepository, lambda e: e.kind == "change")

    @rt.app.agent(risk_events)
    async def keep_risk_changes(stream):
        await keep(rt, stream, RISK_EVENTS, RiskEvent, risk_adjustment_history.row,
                   risk_adjustment_history.RiskAdjustmentRepository)
