"""Live validation in the worker: every few seconds, the forecasts whose horizon has come
are scored (inference.validation) into forecast_validation, and the accuracy gauges of
the served model are updated.

Each worker settles the symbols whose windows it holds, so the outcome bar is read from
the table, counted in the symbol's own sessions. The keys to settle are in PostgreSQL
(forecast_pending, written with each forecast by the sink), so they survive restarts,
and a forecast whose row comes after its outcome bar is settled on the next pass.
"""
import logging

import asyncpg

from inference.validation import NEVER, outcome, score
from persistence.repositories.validation import ValidationRepository
from stream import metrics
from stream.app import app, settings
from stream.lifecycle import resources
from stream.tables import windows

log = logging.getLogger(__name__)
KEYS_PER_PASS = 2000


async def settle(pool: asyncpg.Pool) -> int:
    """Scores what can be settled now; returns the forecasts scored."""
    async with pool.acquire() as conn, conn.transaction():
        repo = ValidationRepository(conn)
        scored = []
        for symbol, as_of, horizon in await repo.pending(windows.symbols(), KEYS_PER_PASS):
            if (window := windows.get(symbol)) is None:
                continue
            if (came := outcome(window, as_of, horizon)) is None:
                continue
            forecasts = await repo.settle((symbol, as_of, horizon))
            if came is not NEVER:
                scored += [score(f, came) for f in forecasts]
        await repo.insert_many(scored)
    return len(scored)


@app.timer(interval=settings.persistence.validate_every_s)
async def validate_forecasts() -> None:
    if not resources.is_open:
        return
    try:
        if n := await settle(resources.pool):
            metrics.validated_total.inc(n)
            async with resources.pool.acquire() as conn:
                metrics.observe_accuracy(await ValidationRepository(conn).accuracy(
                    resources.serving.service.model_version))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        log.warning("live validation waits for PostgreSQL (%s: %s)", type(e).__name__, e)
