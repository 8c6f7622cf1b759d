"""Settling forecasts: those whose horizon has come are scored (inference.validation)
into forecast_validation, the predecessor in shadow beside them, and the served
version's interval misses step its adaptive interval scales.

The keys to settle are in PostgreSQL (forecast_pending, written with each forecast by
the sink), so they survive restarts, and a forecast whose row comes after its outcome
bar is settled on the next pass. The outcome bar is read from the windows the caller
holds (`Bars`), counted in the symbol's own sessions.
"""
import asyncio
import itertools
from functools import partial
from typing import Protocol

import asyncpg
import numpy as np

from features.cross_asset import Context
from features.window import BarWindow
from inference.conformal import LEVELS
from inference.models import Forecaster
from inference.triggers import regressed
from inference.validation import NEVER, as_of_inputs, interval_misses, outcome, score, shadow_score
from persistence.repositories.interval_scales import IntervalScalesRepository
from persistence.repositories.validation import ValidationRepository

KEYS_PER_PASS = 2000


class Bars(Protocol):
    """The windows a worker holds, and each symbol's context."""

    def symbols(self) -> list[str]: ...

    def get(self, symbol: str) -> BarWindow | None: ...

    def context(self, symbol: str) -> Context: ...


async def settle(pool: asyncpg.Pool, bars: Bars, served: str, shadow: Forecaster | None) -> tuple[int, dict]:
    """Scores what can be settled now, and `shadow` on the served version's forecasts
    among them; returns the forecasts scored, and the served version's interval misses by
    (horizon, outcome day), one forecast per key (a key asked a thousand times counts once)."""
    async with pool.acquire() as conn, conn.transaction():
        repo = ValidationRepository(conn)
        scored, shadowed, misses = [], [], {}
        # Keys are locked in the order the sink locks them as it adds them (sorted
        # (symbol, as_of, horizon), persistence/sink.py): taken in the order of their
        # days, a pass and a sink batch each waited for a key the other held, and
        # PostgreSQL broke the deadlock by failing one of them.
        for key in sorted(await repo.pending(bars.symbols(), KEYS_PER_PASS)):
            if (window := bars.get(key[0])) is None:
                continue
            if (came := outcome(window, key[1], key[2])) is None:
                continue
            if came is NEVER:  # its forecasts stay unscored, and are not read
                await repo.drop(key)
                continue
            forecasts = await repo.settle(key)
            scored += once_per_forecast(score, forecasts, came)
            if mine := [f for f in forecasts if f["model_version"] == served]:
                misses.setdefault((key[2], came.target_date), []).append(interval_misses(mine[0], came))
            if shadow is not None:
                shadowed += [(key, f, came, window) for f in forecasts if f["model_version"] == served]
        await repo.insert_many(scored)
        if shadowed:
            await repo.insert_shadow(await shadow_rows(shadow, bars, shadowed))
    return len(scored), misses


async def step_scales(pool: asyncpg.Pool, served: str, misses: dict, gamma: float) -> dict:
    """One step of the served version's interval scales per horizon and outcome day, in
    day order (inference/conformal.py); the scales to serve from now on: every worker's
    steps, read back."""
    async with pool.acquire() as conn:
        repo = IntervalScalesRepository(conn)
        for (horizon, day), rows in sorted(misses.items(), key=lambda kv: kv[0][1]):
            await repo.step(served, horizon, gamma, np.mean(rows, axis=0), LEVELS, day)
        return await repo.of_version(served)


async def shadow_rows(shadow: Forecaster, bars: Bars, forecasts: list[tuple]) -> list[tuple]:
    """The shadow's forecasts for (key, served forecast, outcome, the window the outcome
    was read from), made from the bars up to each key's day in one forward pass off the
    event loop. Days whose cut window is too short for the shadow are left out."""
    inputs = {}
    for (symbol, as_of, _), _, _, window in forecasts:
        if (symbol, as_of) not in inputs:
            inputs[(symbol, as_of)] = as_of_inputs(window, bars.context(symbol), as_of)
    days = [day for day, (window, _) in inputs.items() if len(window) >= shadow.min_history]
    dists = dict(zip(days, await asyncio.to_thread(shadow.predict, [inputs[d] for d in days]))) if days else {}
    rows = []
    for key, group in itertools.groupby(forecasts, key=lambda item: item[0]):  # in key order, as settled
        if key[:2] in dists and key[2] in shadow.horizons:
            group = list(group)
            rows += once_per_forecast(partial(shadow_score, shadow.version), [f for _, f, _, _ in group],
                                      dists[key[:2]], group[0][2])
    return rows


def once_per_forecast(scorer, forecasts: list[dict], *args) -> list[tuple]:
    """scorer(f, *args) for each of one key's forecasts, a row led by its request id,
    computed once per distinct forecast: the requests of a key are mostly one cached
    forecast served again and again (10,000 requests/min settle some 40,000 rows a
    minute), and scoring each on the event loop held it for seconds."""
    done, rows = {}, []
    for f in forecasts:
        served = tuple(repr(v) if isinstance(v, dict) else v for k, v in f.items() if k != "request_id")
        if (row := done.get(served)) is None:
            row = done[served] = scorer(f, *args)
        rows.append((f["request_id"], *row[1:]))
    return rows


async def worse_than_shadow(pool: asyncpg.Pool, served: str, shadow: Forecaster, min_n: int,
                            margin: float) -> tuple[dict, str | None]:
    """(the served version beside its predecessor on the same forecasts, why it should
    give way to it or None)."""
    async with pool.acquire() as conn:
        versus = await ValidationRepository(conn).versus_shadow(served, shadow.version)
    return versus, regressed(served, shadow.version, versus, min_n, margin)
