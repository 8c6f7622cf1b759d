"""Faults against a private broker, PostgreSQL and Redis that these tests may stop and
kill: kill -9 of the worker, a broker restart, PostgreSQL away for 30 s, Redis away.

The guarantee under test (README, "Delivery"): every request id gets at least one
result on forecast.results, duplicates carry the same content, and forecast_metrics
and prediction_audit hold every request exactly once, however the worker died.
"""
import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from tests.workers import Kafka, free_port, new_worker, seed_bars

pytestmark = pytest.mark.integration

SERVICES = Path(__file__).resolve().parents[2] / "scripts" / "services.sh"
SYMBOLS = ["SPY", "AAPL", "MSFT", "TLT"]


class Services:
    """Kafka, PostgreSQL and Redis of this module alone, in a folder of their own."""

    def __init__(self):
        self.run_dir = Path(tempfile.mkdtemp(prefix="tft-faults-"))
        self.run_dir.chmod(0o755)  # PostgreSQL runs as its own user
        self.ports = {k: free_port() for k in ("KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "PG_PORT", "REDIS_PORT")}
        self.env = {**os.environ, "TFT_RUN_DIR": str(self.run_dir), **{k: str(v) for k, v in self.ports.items()}}
        self.bootstrap = f"127.0.0.1:{self.ports['KAFKA_PORT']}"
        self.database_url = f"postgresql://postgres@127.0.0.1:{self.ports['PG_PORT']}/test"

    def call(self, *args: str) -> None:
        subprocess.run([str(SERVICES), *args], env=self.env, check=True, capture_output=True, timeout=120)

    def stop(self, name: str) -> None:
        self.call("stop", name)

    def start(self, name: str) -> None:
        self.call("start", name)


@pytest.fixture(scope="module")
def services():
    s = Services()
    s.call("up")
    yield s
    s.call("down")
    shutil.rmtree(s.run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
async def worker(services, tmp_path_factory, data_dir):
    w = new_worker(tmp_path_factory.mktemp("faults"), uuid.uuid4().hex[:8], services.database_url,
                   bootstrap=services.bootstrap, redis_at=("127.0.0.1", services.ports["REDIS_PORT"], 0),
                   KAFKA_SESSION_TIMEOUT_S="6")
    w.start()
    await seed_bars(data_dir, [w], [*SYMBOLS, "VIX"])
    yield w
    w.stop()


@pytest.fixture
async def kafka(services):
    k = Kafka(services.bootstrap)
    await k.start()
    yield k
    await k.stop()


class Results:
    """Every value on forecast.results, by request id, read from the start as it comes."""

    def __init__(self, bootstrap: str, topic: str):
        self.by_id: dict[str, list[bytes]] = defaultdict(list)
        self.arrived: dict[str, float] = {}
        self._consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                          enable_auto_commit=False)

    async def __aenter__(self):
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc):
        self._task.cancel()
        await self._consumer.stop()

    async def _read(self):
        while True:
            for messages in (await self._consumer.getmany(timeout_ms=200)).values():
                for m in messages:
                    rid = orjson.loads(m.value)["request_id"]
                    self.by_id[rid].append(m.value)
                    self.arrived.setdefault(rid, time.monotonic())

    def count(self, ids) -> int:
        return sum(1 for i in ids if i in self.by_id)

    async def wait(self, ids, n: int | None = None, timeout: float = 120) -> None:
        n = len(ids) if n is None else n
        deadline = time.monotonic() + timeout
        while self.count(ids) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.count(ids)} of {n} results within {timeout} s")
            await asyncio.sleep(0.05)


def requests(n: int, tag: str) -> list[tuple[bytes, bytes, str]]:
    out = []
    for i in range(n):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        rid = f"{tag}-{uuid.uuid4().hex[:12]}"
        body = {"request_id": rid, "symbol": symbol, "forecast_horizons": [1, 5, 10, 21]}
        out.append((symbol.encode(), orjson.dumps(body), rid))
    return out


async def rows_for(database_url: str, ids: list[str], timeout: float = 60) -> tuple[int, int]:
    """(requests with all 4 forecast_metrics rows, requests with an audit row), once every
    request has them or `timeout` passes."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            metrics = await conn.fetchval(
                "SELECT count(*) FROM (SELECT request_id FROM forecast_metrics WHERE request_id = ANY($1) "
                "GROUP BY request_id HAVING count(*) = 4) t", ids)
            audit = await conn.fetchval("SELECT count(*) FROM prediction_audit WHERE request_id = ANY($1)", ids)
            if (metrics == audit == len(ids)) or time.monotonic() > deadline:
                return metrics, audit
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def assert_same_content(results: Results, ids: list[str]) -> int:
    """Duplicates are the same bytes; returns how many requests got more than one."""
    dups = 0
    for rid in ids:
        values = results.by_id[rid]
        if len(set(values)) > 1:
            a, b = (orjson.loads(v) for v in list(dict.fromkeys(values))[:2])
            diff = {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
            raise AssertionError(f"{rid}: {len(set(values))} different results; they differ in {diff}")
        assert orjson.loads(values[0])["status"] == "ok", values[0]
        dups += len(values) > 1
    return dups


async def test_redis_away_forecasts_are_still_served_and_health_says_so(services, worker, kafka):
    services.stop("redis")
    try:
        batch = requests(60, "noredis")
        async with Results(services.bootstrap, worker.topic("forecast.results")) as results:
            await kafka.send_many(worker.topic("forecast.requests"), [(k, v) for k, v, _ in batch])
            await results.wait([r for *_, r in batch], timeout=30)
            assert_same_content(results, [r for *_, r in batch])
        health = httpx.get(worker.url + "/health", timeout=5)
        assert health.status_code == 200, health.text
        assert health.json()["status"] == "degraded" and "degraded" in health.json()["checks"]["redis"]
    finally:
        services.start("redis")
    assert httpx.get(worker.url + "/health", timeout=5).json()["checks"]["redis"] == "ok"


async def test_postgres_away_for_30_s_forecasts_flow_and_no_row_is_lost(services, worker, kafka):
    ids, sent_during = [], []
    rss_before = worker.rss_mb()
    async with Results(services.bootstrap, worker.topic("forecast.results")) as results:
        outage = None
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < 40:
            if outage is None and elapsed >= 5:
                services.stop("postgres")
                outage = time.monotonic()
            if outage is not None and outage > 0 and time.monotonic() - outage >= 30:
                services.start("postgres")
                outage = -1.0
            batch = requests(10, "nopg")
            await kafka.send_many(worker.topic("forecast.requests"), [(k, v) for k, v, _ in batch])
            ids += [r for *_, r in batch]
            if outage is not None and outage > 0:
                sent_during += [r for *_, r in batch]
                if len(sent_during) == 100:
                    health = httpx.get(worker.url + "/health", timeout=5).json()
                    assert "degraded" in health["checks"]["postgres"], health
            await asyncio.sleep(0.2)
        if outage is not None and outage > 0:
            services.start("postgres")
        await results.wait(ids, timeout=60)
        # served while the database was away, not after it came back
        served_during = [r for r in sent_during if results.arrived[r] < outage + 30 or outage < 0]
        assert len(served_during) > 0.9 * len(sent_during) > 0
    assert await rows_for(services.database_url, ids) == (len(ids), len(ids))
    assert worker.rss_mb() - rss_before < 150  # the backlog waited in Kafka


async def test_a_broker_restart_mid_stream_is_survived_and_what_was_queued_is_served(services, worker, kafka):
    batch = requests(1500, "broker")
    ids = [r for *_, r in batch]
    await kafka.send_many(worker.topic("forecast.requests"), [(k, v) for k, v, _ in batch])
    await kafka.stop()
    services.stop("kafka")
    await asyncio.sleep(3)
    services.start("kafka")
    await kafka.start()
    async with Results(services.bootstrap, worker.topic("forecast.results")) as results:
        await results.wait(ids, timeout=150)
        assert_same_content(results, ids)
    assert await rows_for(services.database_url, ids) == (len(ids), len(ids))


async def kill_rounds(services, worker, kafka, rounds: int, delete_state_at: int | None) -> None:
    """Rounds of 1,700 requests; the worker is killed -9 once a third of each round is
    answered, and restarted (its RocksDB folder deleted first in round `delete_state_at`)."""
    all_ids = []
    async with Results(services.bootstrap, worker.topic("forecast.results")) as results:
        for k in range(rounds):
            batch = requests(1700, f"kill{k}")
            ids = [r for *_, r in batch]
            all_ids += ids
            await kafka.send_many(worker.topic("forecast.requests"), [(k_, v) for k_, v, _ in batch])
            await results.wait(ids, n=len(ids) // 3, timeout=90)
            worker.kill()
            if k == delete_state_at:  # the window table must come back from its changelog
                shutil.rmtree(worker.state_dir)
            worker.start()
        try:
            await results.wait(all_ids, timeout=120)
        except AssertionError:
            for k in range(rounds):
                missing = [i for i in all_ids if i.startswith(f"kill{k}") and i not in results.by_id]
                print(f"round {k}: {len(missing)} without a result, e.g. {missing[:3]}")
            raise
        dups = assert_same_content(results, all_ids)
    assert await rows_for(services.database_url, all_ids) == (len(all_ids), len(all_ids))
    last = orjson.loads(results.by_id[all_ids[-1]][0])
    assert last["as_of"] == "2023-12-29"
    print(f"{len(all_ids)} requests, {dups} answered more than once")


async def test_kill_9_three_times_during_5100_requests_once_with_the_state_deleted(services, worker, kafka):
    """The second restart rebuilds the window table from its changelog (stream/recovery.py)."""
    await kill_rounds(services, worker, kafka, rounds=3, delete_state_at=1)
