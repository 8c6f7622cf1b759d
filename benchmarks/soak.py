"""The soak: one worker for half an hour at 10,000 requests/min, bars flowing, a retrain
and a promotion in the middle, and what would show a leak recorded over time.

    scripts/with_services.sh .venv/bin/python benchmarks/soak.py --data-dir ../shared/data

The worker is seeded with bars up to --seed-end; the bars after it (the second half of
2023 by default) are then replayed one trading day at a time, spread over the run, as
a live feed would bring them. Halfway, an incremental retrain is asked over HTTP and,
once it ends, its candidate is promoted (forced if the gate kept it: the promotion is
what is soaked). Every --every-s seconds it records the worker's RSS, open file
descriptors, the RocksDB folder's size, the consumer lag, the forecast_metrics rows,
and p50/p95/p99 from publish to result of the requests answered in that interval.

Writes docs/results/soak/soak.csv (the samples), soak.json (the figures and the
targets of issue 27: RSS grows at most 50 MB after the first 5 minutes, lag does not
grow, p95 at the end within 20% of p95 at the start) and soak.png (each series over time).
"""
import argparse
import asyncio
import csv
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import numpy as np
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.data import load, select  # noqa: E402
from persistence.config import PersistenceConfig  # noqa: E402
from scripts.model_benchmark import request, traded, unlimited  # noqa: E402
from stream.publish import bars_from_panel, publish_bars, series_from_panel  # noqa: E402
from tests.services import fresh_database  # noqa: E402
from tests.workers import SEED_BARS, free_port, new_worker, wait_for_bars  # noqa: E402

USER = "soak"
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2 ** 20


def lag(metrics_text: str) -> float:
    return sum(float(l.split()[-1]) for l in metrics_text.splitlines() if l.startswith("tft_consumer_lag_messages{"))


class Requests:
    """Requests at a steady rate, and the time each took to its result."""

    def __init__(self, topic_prefix: str, per_min: float, symbols: list[str]):
        self.prefix, self.rate, self.symbols = topic_prefix, per_min / 60, symbols
        self.sent: dict[str, float] = {}
        self.done: list[tuple[float, float]] = []  # (answered at, ms from publish)
        self.reading = asyncio.Event()  # the results are read from their end: sending may begin

    async def send(self, until: float) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, linger_ms=5)
        await producer.start()
        await self.reading.wait()
        try:
            start, i = time.monotonic(), 0
            while time.monotonic() < until:
                body = request(self.symbols[i % len(self.symbols)], USER)
                self.sent[body["request_id"]] = time.monotonic()
                await producer.send(self.prefix + "forecast.requests", orjson.dumps(body),
                                    key=body["symbol"].encode())
                i += 1
                await asyncio.sleep(max(0.0, start + i / self.rate - time.monotonic()))
            await producer.flush()
        finally:
            await producer.stop()

    async def receive(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
        await consumer.start()
        try:
            topic = self.prefix + "forecast.results"
            consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or range(4)])
            await consumer.seek_to_end()
            for tp in consumer.assignment():
                await consumer.position(tp)
            self.reading.set()
            while not stop.is_set():
                for messages in (await consumer.getmany(timeout_ms=200)).values():
                    now = time.monotonic()
                    for m in messages:
                        sent = self.sent.pop(orjson.loads(m.value)["request_id"], None)
                        if sent is not None:
                            self.done.append((now, (now - sent) * 1000))
        finally:
            await consumer.stop()


async def replay_days(client: dict, topic: str, bars, until: float) -> None:
    """Each trading day's bars, one day after another, spread evenly until `until`."""
    days = sorted(bars["date"].unique())
    start = time.monotonic()
    step = (until - start) / max(len(days), 1)
    for k, day in enumerate(days):
        await publish_bars(client, topic, bars_from_panel(bars[bars["date"] == day]), 0, progress=False)
        await asyncio.sleep(max(0.0, start + (k + 1) * step - time.monotonic()))


async def retrain_and_promote(url: str, events: list[tuple[float, str]]) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        r = await http.post(url + "/model/retrain", content=orjson.dumps(
            {"retrain_type": "incremental", "reason": "soak: the retrain in the middle"}))
        r.raise_for_status()
        job_id = r.json()["job_id"]
        events.append((time.monotonic(), "retrain asked"))
        print(f"retrain {job_id} asked", flush=True)
        while True:  # the job is known once its command has come back through model.commands
            r = await http.get(f"{url}/model/jobs/{job_id}")
            if r.status_code == 200 and (job := r.json())["status"] in ("succeeded", "failed"):
                break
            await asyncio.sleep(2)
        events.append((time.monotonic(), f"retrain {job['status']}"))
        print(f"retrain ended: {job['status']}, {job.get('message')}", flush=True)
        if job["status"] != "succeeded":
            return
        if not job.get("promoted"):
            r = await http.post(url + "/model/promote", content=orjson.dumps(
                {"version": job["version"], "force": True, "reason": "soak: the promotion in the middle"}))
            print(f"promoted {job['version']}: {r.status_code} {r.text[:200]}", flush=True)
        events.append((time.monotonic(), "promoted"))


async def sample(worker, http: httpx.AsyncClient, conn, reqs: Requests, t0: float, every_s: float) -> dict:
    """The worker's figures now, and the latencies of the requests answered in the last `every_s`."""
    since = [ms for at, ms in reqs.done if at > time.monotonic() - every_s]
    p50, p95, p99 = np.percentile(since, [50, 95, 99]) if since else (np.nan,) * 3
    return {"minute": round((time.monotonic() - t0) / 60, 3), "rss_mb": round(rss_mb(worker.proc.pid), 1),
            "open_fds": len(os.listdir(f"/proc/{worker.proc.pid}/fd")),
            "rocksdb_mb": round(folder_mb(worker.state_dir), 1),
            "lag": lag((await http.get(worker.url + "/metrics")).text),
            "forecast_metrics_rows": await conn.fetchval("SELECT count(*) FROM forecast_metrics"),
            "answered": len(since), "p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "p99_ms": round(p99, 1)}


async def soak(args) -> tuple[list[dict], list[tuple[float, str]], int]:
    """On a database of its own: one shared with earlier runs held their forecasts, which
    the worker settled again as this run's bars came, and counted their rows."""
    async with fresh_database() as url:
        return await soak_on(url, args)


async def soak_on(database_url: str, args) -> tuple[list[dict], list[tuple[float, str]], int]:
    run = uuid.uuid4().hex[:8]
    tmp = Path(f"/tmp/tft-soak-{run}")
    tmp.mkdir()
    worker = new_worker(tmp, run, database_url, bootstrap=BOOTSTRAP, TFT_WEB_PORT=str(free_port()),
                        MARKET_DATA_DIR=str(args.data_dir),  # the service's own gauge interval, not the tests'
                        VALIDATE_ACCURACY_EVERY_S=str(PersistenceConfig().accuracy_every_s))
    prefix = worker.env["KAFKA_TOPIC_PREFIX"]
    data = load(args.data_dir).all_bars()
    symbols = traded()
    seed = select(data, end=args.seed_end).groupby("symbol", group_keys=False).tail(SEED_BARS)
    later = select(data, start=str(np.datetime64(args.seed_end) + 1))
    await unlimited(USER)
    samples, events = [], []
    try:
        worker.start()
        await publish_bars(worker.kafka_client(), worker.topic("market.ticks"), series_from_panel(seed), 0)
        await wait_for_bars([worker], len(seed), timeout=300)
        print(f"seeded {len(seed):,} bars to {args.seed_end}; soaking {args.minutes:g} min at "
              f"{args.per_min:,.0f}/min, {later['date'].nunique()} days of bars to come", flush=True)
        reqs = Requests(prefix, args.per_min, symbols)
        t0 = time.monotonic()
        until = t0 + args.minutes * 60
        stop = asyncio.Event()
        tasks = [asyncio.create_task(reqs.send(until)), asyncio.create_task(reqs.receive(stop)),
                 asyncio.create_task(replay_days(worker.kafka_client(), worker.topic("market.ticks"), later, until))]
        retrain = None
        conn = await asyncpg.connect(database_url)
        async with httpx.AsyncClient(timeout=10) as http:
            with open(args.out / "soak.csv", "w", newline="") as table_file:
                while (now := time.monotonic()) < until:
                    await asyncio.sleep(args.every_s)
                    if retrain is None and now - t0 >= args.minutes * 30:
                        retrain = asyncio.create_task(retrain_and_promote(worker.url, events))
                    samples.append(row := await sample(worker, http, conn, reqs, t0, args.every_s))
                    if len(samples) == 1:
                        table = csv.DictWriter(table_file, fieldnames=list(row))
                        table.writeheader()
                    table.writerow(row)  # as they come: a run that fails late keeps what it measured
                    table_file.flush()
                    print(" ".join(f"{k} {v}" for k, v in row.items()), flush=True)
        await conn.close()
        await tasks[0]
        await asyncio.sleep(30)  # the last answers
        stop.set()
        await asyncio.gather(*tasks[1:], *([retrain] if retrain else []))
        unanswered = len(reqs.sent)
    finally:
        worker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return samples, [(round((at - t0) / 60, 2), what) for at, what in events], unanswered


def figures(samples: list[dict], events: list, unanswered: int, args) -> dict:
    per_min = max(1, round(60 / args.every_s))
    after5 = [s for s in samples if s["minute"] >= args.settle_min]
    first, last = after5[:per_min], samples[-per_min:]  # a minute each

    def mean(rows, key):
        return float(np.nanmean([r[key] for r in rows]))
    rss_growth = max(s["rss_mb"] for s in after5[-per_min:]) - min(s["rss_mb"] for s in first)
    p95_start, p95_end = mean(first, "p95_ms"), mean(last, "p95_ms")
    lag_start, lag_end = mean(first, "lag"), mean(last, "lag")
    return {"minutes": args.minutes, "per_min": args.per_min, "every_s": args.every_s, "events": events,
            "unanswered": unanswered,
            "rss_mb": {"at_settle": first[0]["rss_mb"], "end": last[-1]["rss_mb"],
                       "growth_after_settle": round(rss_growth, 1),
                       "target_max_growth": 50, "met": rss_growth <= 50},
            "p95_ms": {"settled_minute": round(p95_start, 1), "last_minute": round(p95_end, 1),
                       "ratio": round(p95_end / p95_start, 3), "met": p95_end <= 1.2 * p95_start},
            "lag": {"settled_minute": round(lag_start, 1), "last_minute": round(lag_end, 1),
                    "max": max(s["lag"] for s in samples), "met": lag_end <= max(lag_start, 2 * args.per_min / 60)},
            "open_fds": {"at_settle": first[0]["open_fds"], "end": last[-1]["open_fds"]},
            "rocksdb_mb": {"at_settle": first[0]["rocksdb_mb"], "end": last[-1]["rocksdb_mb"]},
            "settle_min": args.settle_min}


def plot(samples: list[dict], summary: dict, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    minutes = [s["minute"] for s in samples]
    panels = [("rss_mb", "RSS (MiB)"), ("open_fds", "open file descriptors"), ("rocksdb_mb", "RocksDB folder (MiB)"),
              ("lag", "consumer lag (messages)"), ("forecast_metrics_rows", "forecast_metrics rows"),
              (("p50_ms", "p95_ms", "p99_ms"), "publish to result (ms)")]
    fig, axes = plt.subplots(3, 2, figsize=(12, 10), sharex=True)
    for ax, (keys, title) in zip(axes.flat, panels):
        for key in (keys if isinstance(keys, tuple) else (keys,)):
            ax.plot(minutes, [s[key] for s in samples], label=key)
        for at, what in summary["events"]:
            ax.axvline(at, color="grey", lw=0.8, ls="--")
        ax.set_title(title)
        if isinstance(keys, tuple):
            ax.legend()
            ax.set_yscale("log")
    for ax in axes[-1]:
        ax.set_xlabel("minutes")
    fig.suptitle(f"soak: {summary['per_min']:,.0f} requests/min for {summary['minutes']:g} min; dashed: "
                 + ", ".join(w for _, w in summary["events"]))
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--per-min", type=float, default=10000.0)
    p.add_argument("--seed-end", default="2023-06-30", help="the worker holds bars to this day; later ones flow")
    p.add_argument("--every-s", type=float, default=10.0)
    p.add_argument("--settle-min", type=float, default=5.0, help="RSS and lag are compared from this minute on")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "soak")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    samples, events, unanswered = asyncio.run(soak(args))
    summary = figures(samples, events, unanswered, args)
    print(json.dumps(summary, indent=2))
    (args.out / "soak.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(samples, summary, args.out / "soak.png")


if __name__ == "__main__":
    main()
