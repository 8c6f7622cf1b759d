"""Load the running service and report what it sustained.

    # through Kafka: 20,000 requests over the traded symbols, all at once (saturation)
    .venv/bin/python scripts/model_benchmark.py --kafka --requests 20000
    # through Kafka at a steady 1,000 requests/min for a minute
    .venv/bin/python scripts/model_benchmark.py --kafka --rps 16.7 --duration 60
    # over HTTP, 8 clients at once for 30 s
    .venv/bin/python scripts/model_benchmark.py --url http://127.0.0.1:8007 --concurrency 8 --duration 30

Prints throughput, p50/p95/p99 latency (publish to result for Kafka, request to answer
for HTTP), errors by code and, for Kafka, requests that got no result. The user it
sends as is put on the unlimited tier in Redis, when Redis answers, so that the rate
limit does not measure itself.
"""
import argparse
import asyncio
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

def traded() -> list[str]:
    """The symbols the default model was trained on: those `make run` seeds and serves."""
    from inference.models import resolve_artifact
    from tft.artifact import load
    return list(load(resolve_artifact("default")).spec.symbols)


def request(symbol: str, user: str) -> dict:
    return {"request_id": f"bench-{uuid.uuid4().hex}", "user_id": user, "symbol": symbol,
            "forecast_horizons": [1, 5, 10, 21], "confidence_intervals": [0.68, 0.95]}


async def unlimited(user: str) -> None:
    import redis.asyncio as redis
    client = redis.Redis(host=os.environ.get("REDIS_HOST", "127.0.0.1"),
                         port=int(os.environ.get("REDIS_PORT", "6379")), socket_connect_timeout=1)
    try:
        await client.hset("tft:user_tiers", user, "internal")
    except (redis.RedisError, OSError) as e:
        print(f"note: could not put {user} on the unlimited tier ({e})")
    finally:
        await client.aclose()


def schedule(args):
    """(symbol, send time offset in s) for every request to send."""
    symbols = args.symbols.split(",") if args.symbols else traded()
    n = args.requests or int(args.rps * args.duration)
    gaps = np.full(n, 1 / args.rps) if args.rps else np.zeros(n)
    return [(symbols[i % len(symbols)], float(t)) for i, t in enumerate(np.cumsum(gaps) - (gaps[0] if n else 0))]


def report(latencies_ms: list[float], wall_s: float, errors: Counter, missing: int, sent: int) -> dict:
    """Prints the run's figures, and returns them (per_min, and p50/p95/p99 in ms when any was answered)."""
    lat = np.asarray(latencies_ms)
    done = len(lat)
    figures = {"sent": sent, "answered": done, "missing": missing, "errors": dict(errors), "per_min": done / wall_s * 60}
    print(f"sent {sent}, answered {done}, missing {missing}, errors {sum(errors.values())} {dict(errors)}")
    print(f"throughput {done / wall_s * 60:,.0f} forecasts/min ({done / wall_s:,.0f}/s over {wall_s:.1f} s)")
    if done:
        p50, p95, p99 = np.percentile(lat, [50, 95, 99])
        figures |= {"p50": p50, "p95": p95, "p99": p99}
        print(f"latency ms: p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {lat.max():.1f}")
    return figures


async def run_kafka(args) -> dict:
    """Timed from the send of each request to the fetch that brought its result. A load
    generator, not stream.client: the client's typed requests and results, and a task and
    a timeout per request, cost 0.35 ms more CPU per request, taken from the worker on the
    2 cores they share (saturation 8% lower, paired runs of 4,000 requests)."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from stream.config import EXACTLY_ONCE
    prefix = os.environ.get("KAFKA_TOPIC_PREFIX", "")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    plan = schedule(args)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    # what a subscriber of an exactly-once worker reads: only committed transactions
    exactly_once = os.environ.get("TFT_PROCESSING_GUARANTEE") == EXACTLY_ONCE
    isolation = "read_committed" if exactly_once else "read_uncommitted"
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level=isolation)
    await producer.start()
    await consumer.start()
    sent_at: dict[str, float] = {}
    got: dict[str, float] = {}
    errors: Counter = Counter()
    try:
        results = prefix + "forecast.results"
        consumer.assign([TopicPartition(results, p) for p in await producer.partitions_for(results)])
        await consumer.seek_to_end()
        for tp in consumer.assignment():
            await consumer.position(tp)

        async def receive():
            while len(got) < len(plan):
                for messages in (await consumer.getmany(timeout_ms=200)).values():
                    now = time.perf_counter()
                    for m in messages:
                        r = orjson.loads(m.value)
                        rid = r.get("request_id")
                        if rid in sent_at and rid not in got:
                            got[rid] = now
                            if r.get("status") != "ok":
                                errors[r["error"]["code"]] += 1

        receiver = asyncio.create_task(receive())
        start = time.perf_counter()
        for symbol, at in plan:
            if (ahead := start + at - time.perf_counter()) > 0:
                await asyncio.sleep(ahead)
            body = request(symbol, args.user)
            sent_at[body["request_id"]] = time.perf_counter()
            await producer.send(prefix + "forecast.requests", orjson.dumps(body), key=symbol.encode())
        await producer.flush()
        try:
            await asyncio.wait_for(receiver, timeout=args.timeout)
        except TimeoutError:
            pass
        wall = max(got.values(), default=time.perf_counter()) - start
    finally:
        await producer.stop()
        await consumer.stop()
    return report([(got[r] - sent_at[r]) * 1000 for r in got], wall, errors, len(plan) - len(got), len(plan))


async def run_http(args) -> None:
    import httpx
    plan = schedule(args) if (args.requests or args.rps) else None
    latencies, errors = [], Counter()
    symbols = args.symbols.split(",") if args.symbols else traded()
    deadline = time.perf_counter() + args.duration
    start = time.perf_counter()
    queue: asyncio.Queue = asyncio.Queue()
    for item in plan or []:
        queue.put_nowait(item)

    async def client_loop(client, k):
        i = k
        while True:
            if plan is not None:
                try:
                    symbol, at = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if (ahead := start + at - time.perf_counter()) > 0:
                    await asyncio.sleep(ahead)
            else:
                if time.perf_counter() >= deadline:
                    return
                symbol, i = symbols[i % len(symbols)], i + args.concurrency
            t = time.perf_counter()
            try:
                resp = await client.post("/forecast/generate", content=orjson.dumps(request(symbol, args.user)))
                if resp.status_code != 200:
                    errors[resp.json().get("error", {}).get("code", str(resp.status_code))] += 1
            except httpx.HTTPError as e:
                errors[type(e).__name__] += 1
            latencies.append((time.perf_counter() - t) * 1000)

    async with httpx.AsyncClient(base_url=args.url, timeout=30) as client:
        await asyncio.gather(*(client_loop(client, k) for k in range(args.concurrency)))
    report(latencies, time.perf_counter() - start, errors, 0, len(latencies))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8007", help="the worker's HTTP address")
    p.add_argument("--kafka", action="store_true", help="drive forecast.requests, read forecast.results")
    p.add_argument("--concurrency", type=int, default=8, help="HTTP clients at once")
    p.add_argument("--duration", type=float, default=30.0, help="seconds to run (with --rps, or HTTP)")
    p.add_argument("--rps", type=float, default=0.0, help="requests per second; 0 sends as fast as possible")
    p.add_argument("--requests", type=int, default=0, help="send exactly this many (Kafka: all at once without --rps)")
    p.add_argument("--symbols", default="", help="comma-separated; default the traded universe")
    p.add_argument("--user", default="benchmark")
    p.add_argument("--timeout", type=float, default=120.0, help="Kafka: seconds to wait for the last results")
    args = p.parse_args()
    if args.kafka and not (args.requests or args.rps):
        p.error("--kafka needs --requests N or --rps R")
    asyncio.run(unlimited(args.user))
    asyncio.run(run_kafka(args) if args.kafka else run_http(args))


if __name__ == "__main__":
    main()
