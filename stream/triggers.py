"""Retrains that ask for themselves: on a schedule, when live accuracy falls behind the
random walk, when the market's regime changes (rules: inference.triggers).

Every worker checks every RETRAIN_TRIGGER_CHECK_S; the first to claim a trigger's period
in PostgreSQL publishes the command on model.commands, under a job id named for the
period, so a retrain is asked once per period however many workers see it. The regime
last seen is kept in memory: a change while no worker runs is not seen.
"""
import logging
from datetime import UTC, datetime

import asyncpg

from inference.triggers import daily, degraded, regime_changed, weekly
from persistence.repositories.retrain_triggers import RetrainTriggersRepository
from persistence.repositories.validation import ValidationRepository
from schemas import RetrainCommand, encode
from stream.app import app, settings
from stream.lifecycle import resources
from stream.readiness import readiness
from stream.tables import contexts
from stream.topics import model_commands

log = logging.getLogger(__name__)
_t = settings.triggers
_seen: dict[str, str | None] = {"regime": None}


async def due_now(service) -> list:
    now = datetime.now(UTC)
    dues = [daily(now, _t.daily_at), weekly(now, _t.weekly_at)]
    async with resources.pool.acquire() as conn:
        accuracy = await ValidationRepository(conn).accuracy(service.model_version)
    dues.append(degraded(service.model_version, accuracy, _t.degradation_min_n, _t.degradation_margin))
    if _t.on_regime_change:
        context = contexts.of("SPY")
        market = service.market_regime(context)
        if market is not None:
            as_of = str(context.series["SPY"][0][-1])
            dues.append(regime_changed(_seen["regime"], market.name, as_of))
            _seen["regime"] = market.name
    return [d for d in dues if d is not None]


@app.timer(interval=_t.check_s)
async def ask_for_retrains() -> None:
    if not resources.is_open or not readiness.ready:
        return
    try:
        for due in await due_now(resources.serving.service):
            job_id = f"{due.trigger}-{due.period}"
            async with resources.pool.acquire() as conn:
                if not await RetrainTriggersRepository(conn).claim(due.trigger, due.period, job_id, due.reason):
                    continue
            log.info("asking for a retrain: %s", due.reason)
            await model_commands.send(key=job_id.encode(), value=encode(RetrainCommand(
                job_id=job_id, retrain_type=due.retrain_type, reason=due.reason[:128])))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        log.warning("retrain triggers wait for PostgreSQL (%s: %s)", type(e).__name__, e)
