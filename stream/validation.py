"""Live validation in the worker: every few seconds, the forecasts whose horizon has come
are scored (inference.validation) into forecast_validation, and the accuracy gauges of
the served model are updated.

Each worker settles the symbols whose windows it holds, so the outcome bar is read from
the table, counted in the symbol's own sessions. The keys to settle are in PostgreSQL
(forecast_pending, written with each forecast by the sink), so they survive restarts,
and a forecast whose row comes after its outcome bar is settled on the next pass.

While the served version has a predecessor (the version it replaced), the predecessor's
forecast for every settled key is scored too, into forecast_shadow, and once the served
version is worse on the same forecasts by ROLLBACK_MARGIN over ROLLBACK_MIN_N of them,
the registry rolls back by itself (audited, and told on model.events). Every worker
follows the registry back; the one whose rollback lands first is the one that does it.

The served version's interval misses move its adaptive interval scales (interval_scales,
inference/conformal.py) one step per horizon and outcome day, which every worker then
serves from its next pass. With W workers each steps on its own symbols' outcomes, so a
day counts up to W steps.
"""
import asyncio
import logging
from datetime import UTC, datetime

import asyncpg
import numpy as np

from inference.models import Forecaster
from inference.triggers import regressed
from inference.conformal import LEVELS
from inference.validation import NEVER, as_of_inputs, interval_misses, outcome, score, shadow_score
from persistence.repositories.model_registry import LifecycleError
from persistence.repositories.interval_scales import IntervalScalesRepository
from persistence.repositories.validation import ValidationRepository
from schemas import ModelEvent, encode
from stream import metrics
from stream.app import app, settings
from stream.lifecycle import resources
from stream.registry import rollback
from stream.tables import contexts, windows
from stream.topics import model_events

log = logging.getLogger(__name__)
KEYS_PER_PASS = 2000


async def settle(pool: asyncpg.Pool, served: str, shadow: Forecaster | None) -> tuple[int, dict]:
    """Scores what can be settled now, and `shadow` on the served version's forecasts
    among them; returns the forecasts scored, and the served version's interval misses by
    (horizon, outcome day), one forecast per key (a key asked a thousand times counts once)."""
    async with pool.acquire() as conn, conn.transaction():
        repo = ValidationRepository(conn)
        scored, shadowed, misses = [], [], {}
        for key in await repo.pending(windows.symbols(), KEYS_PER_PASS):
            if (window := windows.get(key[0])) is None:
                continue
            if (came := outcome(window, key[1], key[2])) is None:
                continue
            if came is NEVER:  # its forecasts stay unscored, and are not read
                await repo.drop(key)
                continue
            forecasts = await repo.settle(key)
            scored += [score(f, came) for f in forecasts]
            if mine := [f for f in forecasts if f["model_version"] == served]:
                misses.setdefault((key[2], came.target_date), []).append(interval_misses(mine[0], came))
            if shadow is not None:
                shadowed += [(key, f, came, window) for f in forecasts if f["model_version"] == served]
        await repo.insert_many(scored)
        if shadowed:
            await repo.insert_shadow(await shadow_rows(shadow, shadowed))
    return len(scored), misses


async def adapt_intervals(pool: asyncpg.Pool, served: str, misses: dict) -> None:
    """One step of the served version's interval scales per horizon and outcome day, in
    day order (inference/conformal.py), and the scales served from now on: every
    worker's steps, read back on each pass."""
    gamma = settings.inference.adaptive_gamma
    async with pool.acquire() as conn:
        repo = IntervalScalesRepository(conn)
        for (horizon, day), rows in sorted(misses.items(), key=lambda kv: kv[0][1]):
            await repo.step(served, horizon, gamma, np.mean(rows, axis=0), LEVELS, day)
        resources.follow_scales(served, await repo.of_version(served))


async def shadow_rows(shadow: Forecaster, forecasts: list[tuple]) -> list[tuple]:
    """The shadow's forecasts for (key, served forecast, outcome, the window the outcome
    was read from), made from the bars up to each key's day in one forward pass off the
    event loop. Days whose cut window is too short for the shadow are left out."""
    inputs = {}
    for (symbol, as_of, _), _, _, window in forecasts:
        if (symbol, as_of) not in inputs:
            inputs[(symbol, as_of)] = as_of_inputs(window, contexts.of(symbol), as_of)
    days = [day for day, (window, _) in inputs.items() if len(window) >= shadow.min_history]
    dists = dict(zip(days, await asyncio.to_thread(shadow.predict, [inputs[d] for d in days]))) if days else {}
    return [shadow_score(shadow.version, f, dists[key[:2]], came) for key, f, came, _ in forecasts
            if key[:2] in dists and key[2] in shadow.horizons]


async def roll_back_if_worse(served: str, shadow: Forecaster) -> None:
    t = settings.triggers
    async with resources.pool.acquire() as conn:
        versus = await ValidationRepository(conn).versus_shadow(served, shadow.version)
    if versus["n"]:
        metrics.shadow_pinball.labels("served").set(versus["pinball"])
        metrics.shadow_pinball.labels("predecessor").set(versus["shadow_pinball"])
    if (why := regressed(served, shadow.version, versus, t.rollback_min_n, t.rollback_margin)) is None:
        return
    try:
        record = await rollback(settings.persistence.database_url, "auto-rollback", why, "auto", expected=served)
    except LifecycleError:
        return  # another worker, or an operator, got there first
    metrics.rollbacks_total.inc()
    log.warning("rolled back %s to %s: %s", record["retired"], record["active"], why)
    await model_events.send(key=f"rollback-{served}".encode(), value=encode(ModelEvent(
        job_id=f"rollback-{served}", kind="rolled_back", at=datetime.now(UTC), message=why,
        version=record["active"], detail={"retired": record["retired"], **versus})))


@app.timer(interval=settings.persistence.validate_every_s)
async def validate_forecasts() -> None:
    if not resources.is_open:
        return
    served, shadow = resources.serving.service.model_version, resources.shadow
    try:
        n, misses = await settle(resources.pool, served, shadow)
        if settings.inference.adaptive_intervals:  # with no outcomes of its own too: others step the scales
            await adapt_intervals(resources.pool, served, misses)
        if n:
            metrics.validated_total.inc(n)
            async with resources.pool.acquire() as conn:
                metrics.observe_accuracy(await ValidationRepository(conn).accuracy(served))
            if shadow is not None:
                await roll_back_if_worse(served, shadow)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        log.warning("live validation waits for PostgreSQL (%s: %s)", type(e).__name__, e)
