"""Retrains that ask for themselves: on a schedule, when live accuracy falls behind the
random walk, when the market's regime changes (rules: inference.triggers).

Every worker checks every RETRAIN_TRIGGER_CHECK_S; the first to claim a trigger's period
in PostgreSQL publishes the command on model.commands, under a job id named for the
period, so a retrain is asked once per period however many workers see it. The regime
last seen is kept in PostgreSQL (trigger_memory), so a change that happens while the
workers restart is still seen.
"""
import logging
from datetime import UTC, datetime

import asyncpg

from features.cross_asset import MARKET
from inference.triggers import Due, TriggerConfig, daily, degraded, regime_changed, weekly
from persistence import AWAY
from persistence.repositories.retrain_triggers import RetrainTriggersRepository
from persistence.repositories.trigger_memory import TriggerMemoryRepository
from persistence.repositories.validation import ValidationRepository
from schemas import RetrainCommand, encode
from stream.tables import contexts
from stream.topics import model_commands

log = logging.getLogger(__name__)
SEEN_REGIME = "market-regime"  # trigger_memory's name for the market regime last seen


async def due_now(pool: asyncpg.Pool, service, t: TriggerConfig) -> list[Due]:
    now = datetime.now(UTC)
    dues = [daily(now, t.daily_at), weekly(now, t.weekly_at)]
    async with pool.acquire() as conn:
        accuracy = await ValidationRepository(conn).accuracy(service.model_version)
        dues.append(degraded(service.model_version, accuracy, t.degradation_min_n, t.degradation_margin))
        if t.on_regime_change:
            context = contexts.of(MARKET)
            market = service.market_regime(context)
            if market is not None:
                memory = TriggerMemoryRepository(conn)
                as_of = str(context.series[MARKET][0][-1])
                dues.append(regime_changed(await memory.get(name=SEEN_REGIME), market.name, as_of))
                await memory.put(name=SEEN_REGIME, value=market.name)
    return [d for d in dues if d is not None]


async def ask_for_due(pool: asyncpg.Pool, service, t: TriggerConfig) -> None:
    for due in await due_now(pool, service, t):
        job_id = f"{due.trigger}-{due.period}"
        async with pool.acquire() as conn:
            if not await RetrainTriggersRepository(conn).claim(due.trigger, due.period, job_id, due.reason):
                continue
        log.info("asking for a retrain: %s", due.reason)
        await model_commands.send(key=job_id.encode(), value=encode(RetrainCommand(
            job_id=job_id, retrain_type=due.retrain_type, reason=due.reason[:128])))


def install(rt) -> None:
    t = rt.settings.triggers

    @rt.app.timer(interval=t.check_s)
    async def ask_for_retrains() -> None:
        if not rt.is_open or not rt.readiness.ready:
            return
        try:
            await ask_for_due(rt.pool, rt.host.service, t)
        except AWAY as e:
            log.warning("retrain triggers wait for PostgreSQL (%s: %s)", type(e).__name__, e)
