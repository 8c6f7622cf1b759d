"""A retrain trigger end to end: two workers of a group both see the daily schedule due,
one retrain is asked on model.commands, and it runs as a job (here it fails at once, on
an empty data folder, so that no model trains beside the other tests)."""
import asyncio
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from tests.services import fresh_database
from tests.workers import new_worker, start_all, stop_all

pytestmark = pytest.mark.integration


async def test_a_due_schedule_asks_for_one_retrain_however_many_workers_see_it(tmp_path):
    (tmp_path / "empty").mkdir()
    async with fresh_database() as url:
        run = uuid.uuid4().hex[:8]
        workers = []
        for i in range(2):
            (tmp_path / f"w{i}").mkdir()
            workers.append(new_worker(tmp_path / f"w{i}", run, url, RETRAIN_DAILY_AT="00:00",
                                      RETRAIN_TRIGGER_CHECK_S="0.5", MARKET_DATA_DIR=str(tmp_path / "empty")))
        try:
            start_all(workers)
            job_id = f"schedule-daily-{datetime.now(UTC).date()}"
            job = await until_ended(workers[0], job_id, timeout=60)
            await asyncio.sleep(2)  # both workers have checked the schedule several times since
            async with httpx.AsyncClient() as http:
                jobs = [(await http.get(w.url + "/model/jobs/" + job_id)).json() for w in workers]
            conn = await asyncpg.connect(url)
            try:
                asked = await conn.fetch("SELECT trigger, job_id FROM retrain_triggers")
                recorded = await conn.fetchval("SELECT count(*) FROM model_jobs")
            finally:
                await conn.close()
        finally:
            stop_all(workers)
    assert job["status"] == "failed" and "data" in job["message"].lower(), job
    assert job["command"]["retrain_type"] == "incremental" and "daily incremental retrain" in job["command"]["reason"]
    assert jobs[0] == jobs[1]  # one job, whichever worker is asked
    assert [tuple(r) for r in asked] == [("schedule-daily", job_id)] and recorded == 1


async def until_ended(worker, job_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            r = await http.get(worker.url + "/model/jobs/" + job_id)
            if r.status_code == 200 and r.json()["status"] in ("failed", "succeeded"):
                return r.json()
            await asyncio.sleep(0.5)
    raise AssertionError(f"job {job_id} did not end within {timeout} s:\n{worker.log_tail()}")
