"""The serving path's targets, end to end through Kafka, from a cold start.

    scripts/with_services.sh .venv/bin/python benchmarks/serving.py --data-dir ../shared/data

It starts `tft-forecast up` (topics, seeding the latest bars of every symbol, the
worker) as `make run` does, with empty state, and measures:

1. readiness: seconds from the launch to `/ready`, and the latency of the first
   request sent once it is;
2. saturation on the cold worker: 20,000 requests over the traded symbols published at
   once as soon as it is ready (no symbol forecast yet), per minute over the run and
   counted from the launch; then the same again on the warm worker;
3. steady rates: p50/p95/p99 from publish to result at 1,000 and 10,000 requests/min;
4. the worker's RSS after all of it.

With --workers 2 a second worker joins the group before the steady runs and the
saturation run is repeated on both (scale-out). With TFT_PROCESSING_GUARANTEE=exactly_once
in the environment the worker delivers exactly once and the client reads the results
read_committed, as such a subscriber would: latency runs until a result is visible.
"""
import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.model_benchmark import run_kafka, unlimited  # noqa: E402


def bench_args(**kw) -> argparse.Namespace:
    base = dict(requests=0, rps=0.0, duration=60.0, symbols="", user="benchmark", timeout=180.0)
    return argparse.Namespace(**{**base, **kw})


def wait_ready(url: str, timeout: float = 300) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/ready", timeout=2).status_code == 200:
                return time.monotonic()
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError("worker not ready")


def drain(url: str, timeout: float = 300) -> float:
    """Wait until the metrics sink has written every request served: the next run should
    not share the CPU with it. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        text = httpx.get(url + "/metrics", timeout=5).text
        served = sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith("tft_forecast_requests_total{"))
        written = [float(l.split()[-1]) for l in text.splitlines() if l.startswith("tft_metrics_sink_results_total ")]
        if written and written[0] >= served:
            return time.monotonic() - started
        time.sleep(0.5)
    raise TimeoutError("the sink did not catch up")


class PeakRSS(threading.Thread):
    """The highest RSS of a process, sampled every 0.2 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak = pid, 0.0

    def run(self):
        while True:
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except (FileNotFoundError, IndexError):
                return
            time.sleep(0.2)


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def start(env: dict, command: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(ROOT / ".venv/bin/tft-forecast"), command], env=env, cwd=ROOT,
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)


def stop_all(procs: list[subprocess.Popen]) -> None:
    """SIGTERM to each process group (`up` execs the worker), SIGKILL after 60 s."""
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--workers", type=int, default=1, choices=(1, 2))
    p.add_argument("--steady-s", type=float, default=60.0, help="seconds of each steady run")
    args = p.parse_args()

    run = f"bench{int(time.time())}"
    state = Path(f"/tmp/tft-{run}")
    env = {**os.environ, "MARKET_DATA_DIR": args.data_dir, "KAFKA_TOPIC_PREFIX": f"{run}.",
           "RETRAIN_DAILY_AT": "off", "RETRAIN_WEEKLY_AT": "off",
           "TFT_APP_ID": f"tft-{run}", "TFT_STATE_DIR": str(state / "w0"), "TFT_WEB_PORT": "8107"}
    os.environ.update(KAFKA_TOPIC_PREFIX=env["KAFKA_TOPIC_PREFIX"])
    url = "http://127.0.0.1:8107"
    procs = []
    asyncio.run(unlimited(bench_args().user))  # else the default tier's limit is what gets measured
    try:
        launched = time.monotonic()
        procs.append(up := start(env, "up", state.with_suffix(".w0.log")))
        ready = wait_ready(url)
        (peak := PeakRSS(up.pid)).start()  # `up` execs the worker in its own process
        print(f"== ready {ready - launched:.1f} s after launch; first request after ready:")
        asyncio.run(run_kafka(bench_args(requests=1, symbols="MSFT")))
        print(f"== saturation, cold worker: {args.requests} requests at once")
        asyncio.run(run_kafka(bench_args(requests=args.requests)))
        total = time.monotonic() - launched
        print(f"counted from launch: {args.requests / total * 60:,.0f} forecasts/min ({total:.1f} s)")
        print(f"(the sink caught up {drain(url):.1f} s later)")

        if args.workers == 2:
            env2 = {**env, "TFT_STATE_DIR": str(state / "w1"), "TFT_WEB_PORT": "8108"}
            procs.append(start(env2, "worker", state.with_suffix(".w1.log")))
            wait_ready("http://127.0.0.1:8108")
            time.sleep(5)  # the rebalance settles
            print("== saturation with two workers (warm)")
            asyncio.run(run_kafka(bench_args(requests=args.requests)))
        else:
            print("== saturation, warm worker")
            asyncio.run(run_kafka(bench_args(requests=args.requests)))
        print(f"(the sink caught up {drain(url):.1f} s later)")
        for per_min in (1000, 10000):
            print(f"== steady {per_min:,}/min for {args.steady_s:.0f} s")
            asyncio.run(run_kafka(bench_args(rps=per_min / 60, duration=args.steady_s)))
        print(f"== worker RSS: now {rss_mb(up.pid):,.0f} MiB, peak {peak.peak:,.0f} MiB")
    finally:
        stop_all(procs)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
