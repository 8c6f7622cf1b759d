"""Feature pipeline speed: the whole panel, and one new bar on a 300-bar window.

    .venv/bin/python benchmarks/features_bench.py --data-dir ../shared/data
"""
import argparse
import dataclasses
import statistics
import time

import numpy as np
import pandas as pd

from features.catalog import NAMES
from features.cross_asset import CONTEXT_SYMBOLS, Context
from features.data import load
from features.pipeline import build, to_window, window


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--window", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=500)
    args = ap.parse_args()

    t = time.perf_counter()
    data = load(args.data_dir)
    bars = pd.concat([data.panel, data.context], ignore_index=True)
    ctx = Context.from_bars(bars)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    panel = build(data.panel, ctx)
    build_s = time.perf_counter() - t
    print(f"load: {load_s:.2f} s; panel features: {panel['symbol'].nunique()} symbols, "
          f"{len(panel):,} rows x {len(NAMES)} features in {build_s:.2f} s")

    day = "2023-12-29"
    recent = bars[bars["date"] <= day]
    last = lambda s: to_window(s, recent[recent["symbol"] == s].tail(args.window))
    stream_ctx = Context.from_windows({s: last(s) for s in CONTEXT_SYMBOLS})
    w = last("AAPL")
    window(w, stream_ctx)  # warm the calendar cache
    times = []
    for _ in range(args.repeats):
        fresh = dataclasses.replace(w)  # a new bar makes a new window: nothing cached
        t = time.perf_counter()
        row = window(fresh, stream_ctx)
        times.append(time.perf_counter() - t)
    assert row.shape == (len(NAMES),)
    ms = np.array(times) * 1000
    print(f"one bar, {args.window}-bar window: median {statistics.median(ms):.3f} ms, "
          f"p90 {np.percentile(ms, 90):.3f} ms over {args.repeats} runs")


if __name__ == "__main__":
    main()
