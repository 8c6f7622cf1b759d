"""Real worker processes against real brokers, PostgreSQL and Redis: what the stream and
fault tests drive. Each run gets its own topic prefix, consumer group, state folder
and port, so runs never see each other's messages."""
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from features.data import load, select
from stream.publish import bars_from_panel, publish_bars, series_from_panel
from stream.settings import load_settings
from tests.helpers import until
from tests.services import redis_settings

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
# Two traded symbols and some of the cross-asset context the TFT reads; the rest of the
# context is absent, which the model sees as masked inputs.
SEED_SYMBOLS = ["SPY", "AAPL", "VIX", "TLT"]
SEED_BARS = 400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Worker:
    def __init__(self, env: dict, state_dir: Path, log_path: Path):
        self.env, self.state_dir, self.log_path = env, state_dir, log_path
        self.url = f"http://127.0.0.1:{env['TFT_WEB_PORT']}"
        self.bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
        self.proc: subprocess.Popen | None = None

    def kafka_client(self) -> dict:
        """aiokafka's connection arguments for the broker this worker uses, credentials included."""
        return load_settings(self.env).kafka_client()

    def topic(self, name: str) -> str:
        return self.env["KAFKA_TOPIC_PREFIX"] + name

    def start(self, timeout: float = 120) -> None:
        """Start and wait until the worker says it is healthy (ready to serve)."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "tft_forecast", "worker"], env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"worker exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        pytest.fail(f"worker not healthy within {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()

    def terminate(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        if self.proc:
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """kill -9: no shutdown, no last commit, no flush."""
        self.proc.kill()
        self.proc.wait()

    def rss_mb(self) -> float:
        return int(Path(f"/proc/{self.proc.pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


def start_all(workers: list[Worker], timeout: float = 120) -> None:
    """Start workers together: each joins the group while the others start, where one
    after another each join would wait out the rebalance of the one before."""
    for w in workers:
        w.launch()
    for w in workers:
        w.wait_ready(timeout)


def stop_all(workers: list[Worker]) -> None:
    """Stop workers together: each takes seconds to close its stores."""
    for w in workers:
        w.terminate()
    for w in workers:
        w.wait_stopped()


def new_worker(tmp: Path, run: str, database_url: str, bootstrap: str = BOOTSTRAP,
               redis_at: tuple[str, int, int] | None = None, **env) -> Worker:
    """A worker of consumer group `run`: workers made with the same run share its topics
    and partitions; each has its own port and state folder."""
    host, port, db = redis_at or redis_settings()
    env = {**os.environ,
           "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_TOPIC_PREFIX": f"t{run}.",
           "TFT_APP_ID": f"tft-test-{run}", "TFT_STATE_DIR": str(tmp / "state"),
           "TFT_WEB_PORT": str(free_port()), "DATABASE_URL": database_url,
           "REDIS_HOST": host, "REDIS_PORT": str(port), "REDIS_DB": str(db),
           "RATE_LIMITS": "free:100000", "TFT_LAG_INTERVAL_S": "1",
           "VALIDATE_ACCURACY_EVERY_S": "0",  # the tests read the gauges as soon as forecasts are scored
           # No retrain may start by itself in a test: the lifecycle tests ask for theirs.
           "RETRAIN_DAILY_AT": "off", "RETRAIN_WEEKLY_AT": "off", "RETRAIN_ON_REGIME_CHANGE": "false", **env}
    return Worker(env, tmp / "state", tmp / "worker.log")


async def seed_bars(data_dir, workers: list[Worker], symbols: list[str]) -> None:
    """Publish the last SEED_BARS bars of `symbols` and wait until the workers hold them."""
    bars = select(load(data_dir).all_bars(), symbols, end="2023-12-29")
    seed = bars.groupby("symbol", group_keys=False).tail(SEED_BARS)
    await publish_bars(workers[0].kafka_client(), workers[0].topic("market.ticks"), series_from_panel(seed), 0,
                       progress=False)
    await wait_for_bars(workers, len(seed))


async def settled(workers: list[Worker], symbols: list[str], timeout: float = 60) -> None:
    """Until every worker holds every symbol's regime, and the symbols' forecasts have
    stopped changing. A regime is written by the symbol's owner once VIX has reached it;
    the other context series (SPY, TLT, ...) reach the owner from the workers that own
    them, each at its own pace. Before, two answers for one symbol, or one request served
    twice across a kill, could read the regime or a context series once absent and once
    present and differ, as answers around a new bar do."""
    refresh_s = load_settings(workers[0].env).stream.context_refresh_s
    async with httpx.AsyncClient(timeout=30) as client:
        async def all_seen() -> bool:
            codes = [(await client.get(f"{w.url}/market/regime/{s}")).status_code for w in workers for s in symbols]
            return all(c == 200 for c in codes)
        await until(all_seen, timeout, f"the regimes of {symbols} on every worker")

        async def forecasts() -> dict:
            answers = {}
            for s in symbols:
                body = {"symbol": s, "forecast_horizons": [1], "request_id": f"settle-{s}-{time.monotonic_ns()}"}
                resp = await client.post(workers[0].url + "/forecast/generate", content=orjson.dumps(body))
                answers[s] = resp.json().get("forecasts")
            return answers

        last = await forecasts()

        async def unchanged() -> bool:
            nonlocal last
            await asyncio.sleep(refresh_s + 0.1)  # a worker builds a symbol's context again at most this often
            now = await forecasts()
            same, last = now == last, now
            return same
        await until(unchanged, timeout, f"the forecasts of {symbols} to stop changing")


async def ingested(workers: list[Worker]) -> float:
    """Bars the workers have ingested so far, together (each counts its own partitions)."""
    total = 0.0
    async with httpx.AsyncClient() as client:
        for w in workers:
            text = (await client.get(w.url + "/metrics")).text
            done = [l for l in text.splitlines() if l.startswith("tft_bars_ingested_total ")]
            total += float(done[0].split()[1]) if done else 0.0
    return total


async def wait_for_bars(workers: list[Worker], n: int, timeout: float = 60) -> None:
    """Until the workers together have ingested n bars."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await ingested(workers) >= n:
            return
        await asyncio.sleep(0.3)
    pytest.fail(f"workers did not ingest {n} bars:\n" + "\n".join(w.log_tail() for w in workers))


async def publish_and_wait(worker: Worker, bars) -> None:
    """Publish real bars on market.ticks and wait until the worker has ingested them all."""
    before = await ingested([worker])
    await publish_bars(worker.kafka_client(), worker.topic("market.ticks"), bars_from_panel(bars), 0, progress=False)
    await wait_for_bars([worker], before + len(bars))


class Kafka:
    """Send raw bytes; read a topic from the beginning until a predicate holds. `client`:
    aiokafka's connection arguments, for a broker that wants credentials."""

    def __init__(self, bootstrap: str = BOOTSTRAP, client: dict | None = None):
        self.client = client or {"bootstrap_servers": bootstrap}

    async def start(self):
        self.producer = AIOKafkaProducer(**self.client, acks="all", linger_ms=2)
        await self.producer.start()

    async def stop(self):
        await self.producer.stop()

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        await self.producer.send_and_wait(topic, value, key=key)

    async def send_many(self, topic: str, items: list[tuple[bytes | None, bytes]]) -> None:
        futures = [await self.producer.send(topic, value, key=key) for key, value in items]
        await asyncio.gather(*futures)

    async def collect(self, topic: str, until, timeout: float = 30) -> list[dict]:
        """JSON values of `topic` from its start, once `until(values)` is true."""
        consumer = AIOKafkaConsumer(topic, **self.client, auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        values: list[dict] = []
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                values += [orjson.loads(m.value) for ms in batch.values() for m in ms]
                if until(values):
                    return values
            raise AssertionError(f"condition not met on {topic} within {timeout} s; saw {values[-5:]}")
        finally:
            await consumer.stop()


def results_for(*request_ids: str):
    ids = set(request_ids)
    return lambda values: ids <= {v.get("request_id") for v in values}
