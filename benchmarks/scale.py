"""What the service costs as its universe grows: 55, 550 and 5,500 symbols, on 1 and 2
workers of one group.

    scripts/with_services.sh .venv/bin/python benchmarks/scale.py --data-dir ../shared/data \
        [--symbols 55,550,5500] [--workers 1,2]

Beyond the data folder's symbols the bars are SYNTHETIC, made here for this benchmark
only and named SYN00001...: each is a real stock's last 600 sessions with its prices
multiplied by a constant, so the features are a real stock's and only the count grows.
They measure cost, never accuracy. The universe is written as a data folder of its own
(the real folder's files linked, the panel replaced), without its last session, which
`tft-forecast up` then seeds as `make run` does.

For each case, on a fresh database, topic prefix and state:
- ready: seconds from launching `up` (topics, seeding, the worker) to /ready;
- RSS per worker (peak) and the RocksDB state on disk, and the changelogs' size on the
  broker's disk;
- saturation: 20,000 requests spread over every symbol, at once;
- p95 at a steady 1,000 requests/min;
- the bar-close burst: every symbol's held-back last session published at once, then
  one request for each; the seconds from the first bar sent to the last answer.

Each case's figures are appended to docs/results/scale/cases.jsonl, and cost.png is
drawn from the latest of each case there.
"""
import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.data import find  # noqa: E402
from scripts.model_benchmark import run_kafka, unlimited  # noqa: E402
from serving import PeakRSS, bench_args, drain, start, stop_all, wait_ready  # noqa: E402 - benchmarks/, beside this
from tests.services import fresh_database  # noqa: E402

PANEL = "us_daily_ohlcv_adjusted_"
SYNTHETIC_DAYS = 600
KAFKA_DATA = ROOT / ".run" / "kafka"
RESULTS = ROOT / "docs" / "results" / "scale"


def universe(data_dir: Path, n: int, out: Path) -> tuple[list[str], pd.DataFrame]:
    """A data folder at `out` with `n` symbols, all but their last session; returns the
    symbols and the held-back last session's bars."""
    real_panel = find(data_dir, PANEL)
    panel = pd.read_csv(real_panel, parse_dates=["date"])
    stocks = sorted(s for s in panel["symbol"].unique() if s != "VIX")
    frames = [panel]
    tails = panel[panel["symbol"].isin(stocks)].groupby("symbol").tail(SYNTHETIC_DAYS)
    rng = np.random.default_rng(0)
    for k in range(max(0, n - len(stocks))):
        base = tails[tails["symbol"] == stocks[k % len(stocks)]].copy()
        factor = float(rng.uniform(0.2, 5.0))
        base[["open", "high", "low", "close"]] *= factor
        base["symbol"] = f"SYN{k + 1:05d}"
        frames.append(base)
    whole = pd.concat(frames, ignore_index=True)
    last = whole.groupby("symbol")["date"].transform("max") == whole["date"]
    shutil.rmtree(out, ignore_errors=True)
    (out / "daily").mkdir(parents=True)
    for item in data_dir.iterdir():  # everything but the panel, linked
        if item.name != "daily":
            (out / item.name).symlink_to(item.resolve())
    for item in (data_dir / "daily").iterdir():
        if item.resolve() != real_panel.resolve():
            (out / "daily" / item.name).symlink_to(item.resolve())
    # uncompressed: gzip took most of a minute at 5,500 symbols; found by name all the same
    whole[~last].to_csv(out / "daily" / real_panel.name.removesuffix(".gz"), index=False, date_format="%Y-%m-%d")
    symbols = sorted(whole["symbol"].unique())
    return [s for s in symbols if s != "VIX"], whole[last & (whole["symbol"] != "VIX")]


def disk_mb(path: Path, pattern: str = "*") -> float:
    return sum(f.stat().st_size for f in path.rglob(pattern) if f.is_file()) / 2**20


def changelog_mb(prefix: str) -> float:
    """The changelog topics' segments of this run's app on the broker's disk."""
    return sum(disk_mb(d) for d in KAFKA_DATA.rglob(f"{prefix}*changelog*") if d.is_dir())


async def burst(client: dict, topic: str, bars: pd.DataFrame, symbols: list[str]) -> float:
    """Seconds from the first of `bars` sent to the answer of the last of one request per symbol."""
    from stream.publish import bars_from_panel, publish_bars
    started = time.perf_counter()
    await publish_bars(client, topic, bars_from_panel(bars), rate=0, progress=False)
    await run_kafka(bench_args(requests=len(symbols), symbols=",".join(symbols)))
    took = time.perf_counter() - started
    print(f"bar-close burst: {len(bars):,} bars, then a request each: last answer {took:.1f} s after the first "
          "bar was sent", flush=True)
    return took


def case(args, n: int, workers: int) -> dict:
    """One case on a database of its own (on the shared one, earlier runs' rows weigh on
    the worker: docs/serving.md)."""
    async def on_fresh_database():
        async with fresh_database() as url:
            return await asyncio.to_thread(measure, args, n, workers, url)
    return asyncio.run(on_fresh_database())


def measure(args, n: int, workers: int, database_url: str) -> dict:
    from stream.settings import load_settings
    run = f"scale{n}x{workers}t{int(time.time())}"
    state = Path(f"/tmp/tft-{run}")
    symbols, held_back = universe(Path(args.data_dir), n, state / "data")
    env = {**os.environ, "MARKET_DATA_DIR": str(state / "data"), "KAFKA_TOPIC_PREFIX": f"{run}.",
           "KAFKA_PARTITIONS": str(args.partitions), "RETRAIN_DAILY_AT": "off", "RETRAIN_WEEKLY_AT": "off",
           "TFT_APP_ID": f"tft-{run}", "TFT_STATE_DIR": str(state / "w0"), "TFT_WEB_PORT": "8107",
           "DATABASE_URL": database_url}
    os.environ.update(KAFKA_TOPIC_PREFIX=env["KAFKA_TOPIC_PREFIX"])
    print(f"\n#### {n:,} symbols ({n - min(n, 54):,} synthetic), {workers} worker(s), "
          f"{args.partitions} partitions", flush=True)
    procs, peaks = [], []
    figures = {"symbols": n, "workers": workers, "partitions": args.partitions}
    try:
        launched = time.monotonic()
        procs.append(start(env, "up", state.with_suffix(".w0.log")))
        urls = ["http://127.0.0.1:8107"]
        if workers == 2:
            env2 = {**env, "TFT_STATE_DIR": str(state / "w1"), "TFT_WEB_PORT": "8108"}
            procs.append(start(env2, "worker", state.with_suffix(".w1.log")))
            urls.append("http://127.0.0.1:8108")
        for p in procs:  # from launch: seeding is part of the cost
            (peak := PeakRSS(p.pid)).start()
            peaks.append(peak)
        ready = max(wait_ready(u, timeout=args.ready_timeout) for u in urls)
        figures["ready_s"] = round(ready - launched, 1)
        print(f"ready {ready - launched:.1f} s after launch", flush=True)
        every = ",".join(symbols)
        print("saturation: 20,000 requests over every symbol at once")
        saturation = asyncio.run(run_kafka(bench_args(requests=20000, symbols=every)))
        figures["saturation_per_min"] = round(saturation["per_min"])
        for u in urls:
            drain(u)
        print(f"steady 1,000/min for {args.steady_s:.0f} s")
        steady = asyncio.run(run_kafka(bench_args(rps=1000 / 60, duration=args.steady_s, symbols=every)))
        figures |= {"p50_ms_at_1k": round(steady["p50"], 1), "p95_ms_at_1k": round(steady["p95"], 1)}
        figures["burst_s"] = round(asyncio.run(burst(load_settings(env).kafka_client(), f"{run}.market.ticks",
                                                     held_back, symbols)), 1)
        for u in urls:
            drain(u)
        figures |= {"rss_mib": [round(p.peak) for p in peaks],
                    "rocksdb_mib": round(disk_mb(state, "*.sst") + disk_mb(state, "*.log")),
                    "changelog_mib": round(changelog_mb(f"tft-{run}"))}
        print(f"RSS peak per worker {', '.join(f'{r:,}' for r in figures['rss_mib'])} MiB; RocksDB "
              f"{figures['rocksdb_mib']:,} MiB on disk; changelogs {figures['changelog_mib']:,} MiB on the broker",
              flush=True)
        return figures
    finally:
        stop_all(procs)
        shutil.rmtree(state, ignore_errors=True)


def plot(cases: list[dict], out: Path) -> None:
    """The cost curve: each figure against the symbols served, a line per worker count."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = [("ready_s", "seconds to ready"), ("rss_mib", "peak RSS per worker, MiB"),
              ("saturation_per_min", "forecasts/min at saturation"), ("p95_ms_at_1k", "p95 ms at 1,000/min"),
              ("burst_s", "bar-close burst, s"), ("changelog_mib", "changelogs, MiB")]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, (key, title) in zip(axes.flat, panels):
        for workers in sorted({c["workers"] for c in cases}):
            mine = sorted((c for c in cases if c["workers"] == workers and key in c), key=lambda c: c["symbols"])
            ax.plot([c["symbols"] for c in mine], [max(np.atleast_1d(c[key])) for c in mine], "o-",
                    label=f"{workers} worker(s)")
        ax.set(xscale="log", title=title, xlabel="symbols")
        ax.grid(alpha=0.3)
    axes.flat[0].legend()
    fig.suptitle("tft-forecast: cost by symbols served (2 CPU cores, broker on the same box; "
                 "symbols beyond 54 synthetic)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--symbols", default="55,550,5500")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--steady-s", type=float, default=120.0)
    p.add_argument("--ready-timeout", type=float, default=900.0)
    p.add_argument("--out", type=Path, default=RESULTS, help="cases.jsonl (appended) and cost.png go here")
    p.add_argument("--plot-only", action="store_true", help="redraw cost.png from the cases already recorded")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    recorded = args.out / "cases.jsonl"
    if not args.plot_only:
        asyncio.run(unlimited(bench_args().user))
        for n in (int(s) for s in args.symbols.split(",")):
            for workers in (int(w) for w in args.workers.split(",")):
                figures = {"date": time.strftime("%Y-%m-%d"), **case(args, n, workers)}
                with recorded.open("a") as f:
                    f.write(json.dumps(figures) + "\n")
                subprocess.run(["sync"], check=False)
    cases = [json.loads(line) for line in recorded.read_text().splitlines()]
    latest = {(c["symbols"], c["workers"]): c for c in cases}  # a case measured again replaces the older
    plot(list(latest.values()), args.out / "cost.png")


if __name__ == "__main__":
    main()
