"""model.commands -> retraining jobs -> model.events.

A command is recorded (model_jobs, command_audit) and acknowledged at once; the jobs
run one at a time on the worker that consumed them, high priority first and otherwise in
the order they came (inference.jobs), each in a process of its own
(`tft-forecast retrain`), so that training never holds the event loop: forecasts keep
flowing. The job's JSON lines become model.events and the job's row. A command
delivered again finds its job recorded and is not run twice. The queue of waiting jobs
is the worker's: a job whose worker died, waiting or running, stays so in model_jobs
with its last event; asking again, under a new job id, runs it.
"""
import asyncio
import logging
import sys
from datetime import UTC, datetime

import orjson

from inference.jobs import JobQueue
from persistence.repositories.command_audit import CommandAuditRepository
from persistence.repositories.model_jobs import ModelJobsRepository
from schemas import ModelEvent, RetrainCommand, SchemaError, decode, encode
from stream.app import app, settings
from stream.batches import batches
from stream.dlq import send_dead_letter
from stream.keys import check_size
from stream.lifecycle import resources
from stream.topics import MODEL_COMMANDS, model_commands, model_events

log = logging.getLogger(__name__)
_jobs: JobQueue[tuple[RetrainCommand, str]] = JobQueue()  # what waits: the record is in PostgreSQL


async def publish(job_id: str, kind: str, message: str, progress: float = 0.0, version: str | None = None,
                  detail: dict | None = None) -> None:
    await model_events.send(key=job_id.encode(), value=encode(ModelEvent(
        job_id=job_id, kind=kind, at=datetime.now(UTC), message=message, progress=progress, version=version,
        detail=detail)))
    status = {"queued": "queued", "failed": "failed", "promoted": "succeeded", "kept": "succeeded"}.get(kind, "running")
    async with resources.pool.acquire() as conn:
        await ModelJobsRepository(conn).update(job_id, status, progress, message, version,
                                               {"promoted": True, "kept": False}.get(kind))


async def accept(command: RetrainCommand, job_id: str) -> bool:
    """Records the job and its audit row (an HTTP request has its own, with who asked);
    False if it was recorded before: a command delivered again."""
    await resources.opened()
    async with resources.pool.acquire() as conn, conn.transaction():
        if not await ModelJobsRepository(conn).add(job_id, command.model_dump()):
            return False
        await CommandAuditRepository(conn).insert(command="retrain", actor=MODEL_COMMANDS, source="kafka",
                                                  params=command.model_dump() | {"job_id": job_id},
                                                  status="accepted", reason=command.reason)
    await publish(job_id, "queued", f"{command.retrain_type} retrain queued ({command.priority} priority)")
    return True


@app.agent(model_commands)
async def take_commands(stream):
    async for events in batches(stream, 16, 0.1):
        for event in events:
            try:
                check_size(event.value, settings.stream.max_event_bytes)
                command = decode(RetrainCommand, event.value)
            except SchemaError as e:
                await send_dead_letter(event, MODEL_COMMANDS, str(e))
                continue
            msg = event.message
            job_id = command.job_id or f"{msg.topic}:{msg.partition}:{msg.offset}"
            if await accept(command, job_id):
                _jobs.put((command, job_id), command.priority)


@app.task
async def run_jobs() -> None:
    while True:
        command, job_id = await _jobs.get()
        try:
            await run(command, job_id)
        except Exception as e:  # noqa: BLE001 - the job fails, the worker goes on
            log.exception("retraining job %s failed", job_id)
            await publish(job_id, "failed", f"{type(e).__name__}: {e}")


async def run(command: RetrainCommand, job_id: str) -> None:
    args = [sys.executable, "-m", "stream", "retrain", "--job-id", job_id, "--retrain-type", command.retrain_type,
            "--reason", command.reason, "--symbols", ",".join(command.symbols),
            "--by", f"job {job_id}"]
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    last = None
    async for line in proc.stdout:
        if line.startswith(b"{"):
            step = orjson.loads(line)
            last = step["kind"]
            await publish(job_id, step["kind"], step["message"], step["progress"], step.get("version"),
                          step.get("detail"))
    err = await proc.stderr.read()
    log.info("retraining job %s ended: %s", job_id, last)
    if await proc.wait() != 0 or last not in ("promoted", "kept"):
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        await publish(job_id, "failed", tail[0])
