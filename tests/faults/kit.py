"""What the fault tests share: services of their own to stop and kill, a reader of every
result by request id, requests over the test symbols, and the checks of what arrived."""
import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.workers import Kafka, Worker, free_port

SERVICES = Path(__file__).resolve().parents[2] / "scripts" / "services.sh"
SYMBOLS = ["SPY", "AAPL", "MSFT", "TLT"]  # the requests' symbols
PARTITIONS = 4  # the workers' topics' (KAFKA_PARTITIONS' default)


class Services:
    """Kafka, PostgreSQL and Redis of the fault tests alone, in a folder of their own."""

    def __init__(self):
        self.run_dir = Path(tempfile.mkdtemp(prefix="tft-faults-"))
        self.run_dir.chmod(0o755)  # PostgreSQL runs as its own user
        # The broker also listens on KAFKA_PROXIED_PORT for clients that reach it through
        # Toxiproxy on KAFKA_PROXY_PORT (test_network.py).
        self.ports = {k: free_port() for k in ("KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "KAFKA_PROXIED_PORT",
                                               "KAFKA_PROXY_PORT", "PG_PORT", "REDIS_PORT")}
        self.env = {**os.environ, "TFT_RUN_DIR": str(self.run_dir), **{k: str(v) for k, v in self.ports.items()}}
        self.bootstrap = f"127.0.0.1:{self.ports['KAFKA_PORT']}"
        self.database_url = f"postgresql://postgres@127.0.0.1:{self.ports['PG_PORT']}/test"

    def call(self, *args: str) -> None:
        subprocess.run([str(SERVICES), *args], env=self.env, check=True, capture_output=True, timeout=120)

    def stop(self, name: str) -> None:
        self.call("stop", name)

    def start(self, name: str) -> None:
        self.call("start", name)


class Results:
    """Every value on forecast.results, by request id, read from the start as it comes."""

    def __init__(self, bootstrap: str, topic: str, isolation_level: str = "read_uncommitted"):
        self.by_id: dict[str, list[bytes]] = defaultdict(list)
        self.arrived: dict[str, float] = {}
        self._consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                          enable_auto_commit=False, isolation_level=isolation_level)

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


def requests(n: int, tag: str, symbols: list[str] = SYMBOLS) -> list[tuple[bytes, bytes, str]]:
    out = []
    for i in range(n):
        symbol = symbols[i % len(symbols)]
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


def assert_same_content(results: Results, ids: list[str], redis_away: bool = False) -> int:
    """Duplicates are the same bytes; returns how many requests got more than one. While
    Redis is away no receipt is kept, and a redelivered answer is computed again: the
    same forecast, in its own `latency_ms` (README, "Failover")."""
    dups = 0
    for rid in ids:
        values = results.by_id[rid]
        if len(set(values)) > 1:
            a, b = (orjson.loads(v) for v in list(dict.fromkeys(values))[:2])
            diff = {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
            if not (redis_away and set(diff) == {"latency_ms"}):
                raise AssertionError(f"{rid}: {len(set(values))} different results; they differ in {diff}")
        assert orjson.loads(values[0])["status"] == "ok", values[0]
        dups += len(values) > 1
    return dups


async def kill_rounds(services, worker: Worker, kafka: Kafka, rounds: int, delete_state_at: int | None,
                      isolation_level: str = "read_uncommitted", kill=None) -> int:
    """Rounds of 1,700 requests; the worker is killed -9 (by `await kill()` when given)
    once a third of each round is answered, and restarted (its RocksDB folder deleted
    first in round `delete_state_at`). Every request must get a result, the same bytes
    each time, and its rows; returns how many got more than one, as a subscriber at
    `isolation_level` saw them."""
    all_ids = []
    async with Results(services.bootstrap, worker.topic("forecast.results"), isolation_level) as results:
        for k in range(rounds):
            batch = requests(1700, f"kill{k}")
            ids = [r for *_, r in batch]
            all_ids += ids
            await kafka.send_many(worker.topic("forecast.requests"), [(k_, v) for k_, v, _ in batch])
            await results.wait(ids, n=len(ids) // 3, timeout=90)
            await kill() if kill else worker.kill()
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
    return dups


async def answers(bootstrap: str, topic: str, isolation_level: str) -> Counter:
    """How many results each request id has on `topic`, read to its end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level=isolation_level)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        counts: Counter = Counter()
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                counts.update(orjson.loads(m.value)["request_id"] for m in messages)
        return counts
    finally:
        await consumer.stop()


async def kill_inside_a_transaction(worker: Worker, bootstrap: str, topic: str, timeout: float = 60) -> None:
    """kill -9 while a transaction that wrote to `topic` is open: the worker is stopped
    (SIGSTOP) until the last stable offset of a partition is behind its high watermark,
    and let go again while none is."""
    ends = {level: AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level=level)
            for level in ("read_committed", "read_uncommitted")}
    for c in ends.values():
        await c.start()
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.kill(worker.proc.pid, signal.SIGSTOP)
            stable, high = [await c.end_offsets(tps) for c in ends.values()]
            if any(stable[tp] < high[tp] for tp in tps):
                worker.kill()
                return
            os.kill(worker.proc.pid, signal.SIGCONT)
            await asyncio.sleep(0.005)
        raise AssertionError(f"no transaction open on {topic} within {timeout} s")
    finally:
        for c in ends.values():
            await c.stop()


def subscriber_isolation(guarantee: str) -> str:
    """How a subscriber of workers delivering under `guarantee` reads their results."""
    return "read_committed" if guarantee == "exactly_once" else "read_uncommitted"


# Home partitions 0, 1, 2 and 3 of 4 (stream.keys.home_partition): every worker of two
# owns some, so a death always moves requests.
FAILOVER_SYMBOLS = ["META", "AAPL", "MSFT", "SPY"]


@dataclass
class Flow:
    results: Results
    sent: dict[str, float]  # request id -> when it was sent
    waits: dict[str, float]  # request id -> seconds from sent to its first result
    happened: dict[str, float]  # event -> when it was started

    def longest_wait(self) -> float:
        return max(self.waits.values())

    def sent_between(self, start: str, end: str) -> list[str]:
        return [r for r, t in self.sent.items() if self.happened[start] <= t < self.happened[end]]


async def flow(bootstrap: str, workers: list[Worker], rate: float, end: float, tag: str,
               events: list[tuple[float, str, Callable[[], object]]],
               isolation_level: str = "read_uncommitted") -> Flow:
    """Requests at `rate` a second over FAILOVER_SYMBOLS from 0 to `end` seconds, and each
    (at, name, action) of `events` started at its second, in a thread of its own so that
    the requests keep flowing. Returns once every request has a result, as a subscriber at
    `isolation_level` sees them (or raises, naming how many have none)."""
    kafka = Kafka(bootstrap)
    await kafka.start()
    sent: dict[str, float] = {}
    happened: dict[str, float] = {}
    actions = []
    pending = sorted(events, key=lambda e: e[0])
    try:
        async with Results(bootstrap, workers[0].topic("forecast.results"), isolation_level) as results:
            t0 = time.monotonic()
            while (t := time.monotonic() - t0) < end:
                while pending and t >= pending[0][0]:
                    _, name, action = pending.pop(0)
                    happened[name] = time.monotonic()
                    actions.append(asyncio.create_task(asyncio.to_thread(action)))
                ((key, value, rid),) = requests(1, tag, [FAILOVER_SYMBOLS[len(sent) % 4]])
                sent[rid] = time.monotonic()
                await kafka.send(workers[0].topic("forecast.requests"), value, key)
                await asyncio.sleep(max(0.0, t0 + len(sent) / rate - time.monotonic()))
            await asyncio.gather(*actions)
            await results.wait(list(sent), timeout=120)
            waits = {rid: results.arrived[rid] - at for rid, at in sent.items()}
    finally:
        await kafka.stop()
    return Flow(results, sent, waits, happened)


@dataclass
class Failover(Flow):
    served_after_return: float = 0.0  # requests the killed worker served once back

    def summary(self) -> str:
        w = sorted(self.waits.values())
        down = [self.waits[r] for r in self.sent_between("kill", "back")]
        return (f"{len(self.sent)} requests; longest wait {w[-1]:.2f} s (p50 {w[len(w) // 2] * 1000:.0f} ms); "
                f"sent while a worker was down: {len(down)}, longest {max(down, default=0):.2f} s; "
                f"served by the killed worker once back: {self.served_after_return:.0f}")


async def failover(bootstrap: str, workers: list[Worker], victim: Worker, rate: float, kill_at: float,
                   back_at: float, end: float, tag: str, isolation_level: str = "read_uncommitted") -> Failover:
    """A flow of requests in which `victim`, one of `workers`, is killed -9 at `kill_at`
    seconds and started again at `back_at`."""
    events = [(kill_at, "kill", victim.kill), (back_at, "back", victim.start)]
    f = await flow(bootstrap, workers, rate, end, tag, events, isolation_level)
    return Failover(f.results, f.sent, f.waits, f.happened, await served(victim))


async def served(worker: Worker) -> float:
    """Forecast requests the worker has served since it started."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(worker.url + "/metrics")).text
    return sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith("tft_forecast_requests_total{"))
