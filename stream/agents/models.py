"""model.commands -> retraining jobs -> model.events.

A command is recorded (model_jobs, command_audit) and acknowledged at once. The queue of
waiting jobs is model_jobs itself: a worker claims the next one, high priority first
and otherwise in the order they came, so jobs waiting when a worker stops are run by
the next one to look. Each job runs in a spawned process (lifecycle.retrain), one at a
time per worker, so that training never holds the event loop: forecasts keep flowing.
Its steps become model.events and the job's row. A command delivered again finds its job
recorded and is not run twice. A job whose worker died while running it stays running
in model_jobs with its last event; asking again, under a new job id, runs it.
"""
import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from functools import partial

import asyncpg

from lifecycle.retrain import RetrainJob, run_in_process
from persistence import AWAY
from persistence.repositories.command_audit import CommandAuditRepository
from persistence.repositories.model_jobs import ModelJobsRepository
from schemas import ModelEvent, RetrainCommand, SchemaError, decode, encode
from stream.batches import batches
from stream.dlq import send_dead_letter
from stream.keys import check_size
from stream.publish import valid_bars
from stream.topics import MARKET_TICKS, MODEL_COMMANDS, full_name, model_commands, model_events

log = logging.getLogger(__name__)
STATUS = {"queued": "queued", "failed": "failed", "promoted": "succeeded", "kept": "succeeded"}
IDLE_CHECK_S = 30.0  # how often an idle worker looks for jobs another worker recorded


async def publish(pool: asyncpg.Pool, job_id: str, kind: str, message: str, progress: float = 0.0,
                  version: str | None = None, detail: dict | None = None) -> None:
    await model_events.send(key=job_id.encode(), value=encode(ModelEvent(
        job_id=job_id, kind=kind, at=datetime.now(UTC), message=message, progress=progress, version=version,
        detail=detail)))
    async with pool.acquire() as conn:
        await ModelJobsRepository(conn).update(job_id, STATUS.get(kind, "running"), progress, message, version,
                                               {"promoted": True, "kept": False}.get(kind))


async def accept(pool: asyncpg.Pool, command: RetrainCommand, job_id: str) -> bool:
    """Records the job and its audit row (an HTTP request has its own, with who asked);
    False if it was recorded before: a command delivered again."""
    async with pool.acquire() as conn, conn.transaction():
        if not await ModelJobsRepository(conn).add(job_id, command.model_dump()):
            return False
        await CommandAuditRepository(conn).insert(command="retrain", actor=MODEL_COMMANDS, source="kafka",
                                                  params=command.model_dump() | {"job_id": job_id},
                                                  status="accepted", reason=command.reason)
    await publish(pool, job_id, "queued", f"{command.retrain_type} retrain queued ({command.priority} priority)")
    return True


async def claim_next(pool: asyncpg.Pool) -> RetrainJob | None:
    async with pool.acquire() as conn:
        claimed = await ModelJobsRepository(conn).claim_next()
    if claimed is None:
        return None
    job_id, recorded = claimed
    command = RetrainCommand.model_validate(recorded)
    return RetrainJob(job_id=job_id, retrain_type=command.retrain_type, reason=command.reason,
                      symbols=tuple(command.symbols), by=f"job {job_id}")


async def run(rt, job: RetrainJob) -> None:
    """The job in a process of its own, its steps relayed to model.events as they come."""
    bars = partial(valid_bars, rt.settings.kafka_client(), full_name(MARKET_TICKS), rt.settings.quality)
    last = None
    async for step in run_in_process(rt.settings, job, bars):
        last = step["kind"]
        await publish(rt.pool, job.job_id, step["kind"], step["message"], step["progress"], step.get("version"),
                      step.get("detail"))
    log.info("retraining job %s ended: %s", job.job_id, last)


def install(rt) -> None:
    waiting = asyncio.Event()  # set when a job is recorded here: no need to wait for the next look

    @rt.app.agent(model_commands)
    async def take_commands(stream):
        async for events in batches(stream, 16, 0.1):
            await rt.opened()
            for event in events:
                try:
                    check_size(event.value, rt.settings.stream.max_event_bytes)
                    command = decode(RetrainCommand, event.value)
                except SchemaError as e:
                    await send_dead_letter(rt.delivery, event, MODEL_COMMANDS, str(e))
                    continue
                msg = event.message
                if await accept(rt.pool, command, command.job_id or f"{msg.topic}:{msg.partition}:{msg.offset}"):
                    waiting.set()

    @rt.app.task
    async def run_jobs() -> None:
        await rt.opened()
        while True:
            waiting.clear()
            try:
                job = await claim_next(rt.pool)
            except AWAY as e:
                log.warning("retraining jobs wait for PostgreSQL (%s: %s)", type(e).__name__, e)
                job = None
            if job is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiting.wait(), IDLE_CHECK_S)
                continue
            try:
                await run(rt, job)
            except Exception as e:  # noqa: BLE001 - the job fails, the worker goes on
                log.exception("retraining job %s failed", job.job_id)
                await publish(rt.pool, job.job_id, "failed", f"{type(e).__name__}: {e}")
