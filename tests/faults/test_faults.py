"""Faults against a private broker, PostgreSQL and Redis that these tests may stop and
kill: kill -9 of the worker, a broker restart, PostgreSQL away for 30 s, Redis away.

The guarantee under test (README, "Delivery"): every request id gets at least one
result on forecast.results, duplicates carry the same content, and forecast_metrics
and prediction_audit hold every request exactly once, however the worker died.
"""
import asyncio
import time
import uuid

import httpx
import pytest

from tests.faults.kit import SYMBOLS, Results, assert_same_content, kill_rounds, requests, rows_for
from tests.workers import new_worker, seed_bars

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def worker(services, tmp_path_factory, data_dir):
    w = new_worker(tmp_path_factory.mktemp("faults"), uuid.uuid4().hex[:8], services.database_url,
                   bootstrap=services.bootstrap, redis_at=("127.0.0.1", services.ports["REDIS_PORT"], 0),
                   KAFKA_SESSION_TIMEOUT_S="6")
    w.start()
    await seed_bars(data_dir, [w], [*SYMBOLS, "VIX"])
    yield w
    w.stop()


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


async def test_kill_9_three_times_during_5100_requests_once_with_the_state_deleted(services, worker, kafka):
    """The second restart rebuilds the window table from its changelog (stream/recovery.py)."""
    dups = await kill_rounds(services, worker, kafka, rounds=3, delete_state_at=1)
    print(f"5100 requests, {dups} answered more than once")
