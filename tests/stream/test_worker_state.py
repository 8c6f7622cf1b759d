"""What a worker once kept only in memory, proven by killing it (kill -9) where that
memory would have been lost: the retrain queue, the market regime the retrain trigger
saw last, and the risk level told per symbol. Each now lives in PostgreSQL
(lifecycle/, persistence/migrations/0010_keep_worker_state.sql)."""
import asyncio
import os
import signal
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from features.data import load, select
from tests.helpers import until
from tests.services import fresh_database
from tests.workers import ingested, new_worker, publish_and_wait

pytestmark = pytest.mark.integration
# Each test kills its worker -9: the one started after it joins once the group has given
# up on the dead one, after the session timeout (Kafka's least).
KILLED = {"KAFKA_SESSION_TIMEOUT_S": "6"}


def kill_children_of_run(app_id: str, keep: int | None = None) -> None:
    """kill -9 every process of this test's worker group (a job process orphaned by its
    worker's death), but `keep`."""
    marker = f"TFT_APP_ID={app_id}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in (os.getpid(), keep):
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


async def fetch(url: str, sql: str, *args) -> list:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def retrain(worker, body: dict) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(worker.url + "/model/retrain", content=orjson.dumps(body))
    assert r.status_code == 202, r.text
    return r.json()["job_id"]


async def test_jobs_waiting_when_their_worker_dies_run_after_it_restarts_high_priority_first(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    # A job that reads this panel file blocks on it (a FIFO no one writes): the worker is busy
    # with it while the next jobs wait, as behind a long training.
    os.mkfifo(data / "us_daily_ohlcv_adjusted_blocked.csv.gz")
    run = uuid.uuid4().hex[:8]
    async with fresh_database() as url:
        worker = new_worker(tmp_path, run, url, MARKET_DATA_DIR=str(data), **KILLED)
        try:
            worker.start()
            busy = await retrain(worker, {"reason": "blocks on the data folder"})
            await until(lambda: fetch(url, "SELECT 1 FROM model_jobs WHERE job_id = $1 AND status = 'running'", busy),
                        30, "the first job did not start")
            waiting = [await retrain(worker, {"priority": p, "reason": f"waits {p} {i}"})
                       for i, p in enumerate(("normal", "normal", "high"))]
            await until(lambda: fetch(url, "SELECT 1 FROM model_jobs WHERE status = 'queued' HAVING count(*) = 3"),
                        30, "the three jobs were not recorded as waiting")
            worker.kill()  # the old worker held these three in a queue in its memory
            kill_children_of_run(worker.env["TFT_APP_ID"])  # the orphaned job process, still blocked
            (data / "us_daily_ohlcv_adjusted_blocked.csv.gz").unlink()  # the next jobs fail at once
            worker.start()
            ended = await until(lambda: failed(url, waiting), 90, "the waiting jobs did not all run after the restart")
            busy_row = (await fetch(url, "SELECT status FROM model_jobs WHERE job_id = $1", busy))[0]
        finally:
            worker.stop()
            kill_children_of_run(worker.env["TFT_APP_ID"])
    assert [r["job_id"] for r in ended] == [waiting[2], waiting[0], waiting[1]]  # high first, then as they came
    assert busy_row["status"] == "running"  # its worker died running it: asking again runs it anew


async def failed(url: str, jobs: list[str]) -> list | None:
    """The jobs, in the order they ended, once all of them have."""
    rows = await fetch(url, "SELECT job_id FROM model_jobs WHERE job_id = ANY($1) AND status = 'failed' "
                            "ORDER BY updated_at", jobs)
    return rows if len(rows) == len(jobs) else None


async def test_a_risk_change_is_told_once_across_a_worker_restart(tmp_path, data_dir):
    bars = select(load(data_dir).all_bars(), ["SPY"], end="2020-03-16").tail(300)
    run = uuid.uuid4().hex[:8]
    async with fresh_database() as url:
        worker = new_worker(tmp_path, run, url, TFT_MODEL="baseline", RISK_RULES="vol_spike", **KILLED)
        try:
            worker.start()
            await publish_and_wait(worker, bars)
            await forecast(worker)
            told = await until(lambda: risk_events(worker), 30, "the risk change was not told")
            worker.kill()  # before: the level told lived in the worker's memory, and went with it
            worker.start()
            await forecast(worker)
            after = await risk_events(worker)  # a second event would be on Kafka: the answer waits for its sends
            kept = await fetch(url, "SELECT level FROM risk_levels_told WHERE symbol = 'SPY'")
        finally:
            worker.stop()
    assert [(e["level"], e.get("previous")) for e in told] == [("high", None)]
    assert [(e["level"], e.get("previous")) for e in after] == [("high", None)]  # not told a second time
    assert [r["level"] for r in kept] == ["high"]


async def risk_events(worker, read_s: float = 3.0) -> list[dict]:
    """The events on risk.events, read from the start for `read_s` seconds."""
    consumer = AIOKafkaConsumer(worker.topic("risk.events"), **worker.kafka_client(), auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    values, deadline = [], time.monotonic() + read_s
    try:
        while time.monotonic() < deadline:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                values += [orjson.loads(m.value) for m in messages]
        return values
    finally:
        await consumer.stop()


async def forecast(worker) -> dict:
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(worker.url + "/forecast/generate", content=orjson.dumps({"symbol": "SPY"}))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_regime_change_while_the_workers_are_down_asks_for_a_retrain(tmp_path, data_dir):
    (tmp_path / "empty").mkdir()
    panel = load(data_dir).all_bars()
    # Deep inside a Bull run and a Crisis under the default model's regime book, far from
    # their edges, where how the bars are batched cannot tip the filter either way.
    calm = select(panel, ["SPY", "VIX"], end="2019-12-20").groupby("symbol", group_keys=False).tail(400)
    crash = select(panel, ["SPY", "VIX"], start="2019-12-21", end="2020-03-16")
    run = uuid.uuid4().hex[:8]
    async with fresh_database() as url:
        worker = new_worker(tmp_path, run, url, RETRAIN_ON_REGIME_CHANGE="true", RETRAIN_TRIGGER_CHECK_S="0.5",
                            MARKET_DATA_DIR=str(tmp_path / "empty"), **KILLED)
        try:
            worker.start()
            await publish_and_wait(worker, calm)
            # Checks run while the bars arrive, so partial windows may ask for retrains of
            # their own: the regime kept is the one it settles on once all are in.
            before = await until(lambda: settled_memory(url), 60, "the trigger kept no regime")
            worker.kill()
            await publish_and_wait_offline(worker, crash)
            worker.start()
            backlog_in = await ingested([worker])  # ready means the bars that waited are in (stream/readiness.py)
            asked = await until(lambda: fetch(url, "SELECT period FROM retrain_triggers WHERE period LIKE $1",
                                              "%@2020-03-16"), 60, "the change was not asked for after the restart")
        finally:
            worker.stop()
    assert backlog_in == len(crash)
    assert before != "Crisis"
    assert [r["period"] for r in asked] == [f"{before}->Crisis@2020-03-16"]


async def settled_memory(url: str) -> str | None:
    """The regime the trigger keeps, once three reads over a second and a half agree."""
    seen = []
    for _ in range(3):
        seen += [r["value"] for r in await fetch(url, "SELECT value FROM trigger_memory")] or [None]
        await asyncio.sleep(0.5)
    return seen[0] if seen[0] is not None and len(set(seen)) == 1 else None


async def publish_and_wait_offline(worker, bars) -> None:
    """Publish bars while no worker runs: they wait in Kafka for the next one."""
    from stream.publish import bars_from_panel, publish_bars
    await publish_bars(worker.kafka_client(), worker.topic("market.ticks"), bars_from_panel(bars), 0, progress=False)
