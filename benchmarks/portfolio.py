"""How long a book's risk takes to compute, by book size: the served model's forecasts for
the data folder's last day (real marginals), joined by its copula, sampled, and read
(VaR, ES and Euler contributions at two levels). This is the part of a portfolio request
that grows with the book; its members' forecasts cost what a batch of them costs.

    .venv/bin/python benchmarks/portfolio.py --data-dir ../shared/data
"""
import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from features.data import load
from inference.book import book_risk
from inference.dependence import load as load_dependence
from inference.marginal import table
from tft.artifact import load as load_artifact
from tft.backtest import backtest
from tft.evaluate import forecast_log_quantiles


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--model", type=Path, default=Path("artifacts/default.pt"))
    p.add_argument("--sizes", default="2,10,50,200,500")
    p.add_argument("--repeats", type=int, default=50)
    args = p.parse_args()
    data, art = load(args.data_dir), load_artifact(args.model)
    dep = load_dependence(args.model)
    last = str(data.panel["date"].max().date())
    rows = backtest(data, art, last, last, progress=False)
    rows = rows[rows["horizon"] == 1].reset_index(drop=True)
    real = table(forecast_log_quantiles(rows))  # (S, K) one per symbol of the folder, unscaled: no outcomes yet
    levels = np.array([0.95, 0.99])
    out = []
    for n in map(int, args.sizes.split(",")):
        tabs = real[np.arange(n) % len(real)]  # past the folder's symbols, its forecasts again
        symbols = [rows["symbol"][i % len(rows)] for i in range(n)]
        corr = dep.of(symbols, 1)[0] if dep else np.eye(n)
        if n > len(real):  # repeated symbols: a correlation of one would make it singular
            corr = 0.9 * corr + 0.1 * np.eye(n)
        w = np.full(n, 1 / n)
        for family, dof in (("gaussian", None), ("t", 5.0)):
            book_risk(w, tabs, corr, dof, levels, 1)  # the draws of this size, made once and kept
            times = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                book_risk(w, tabs, corr, dof, levels, 1)
                times.append((time.perf_counter() - t) * 1000)
            row = {"symbols": n, "copula": family, "ms_p50": statistics.median(times),
                   "ms_p95": float(np.percentile(times, 95))}
            out.append(row)
            print(json.dumps(row))


if __name__ == "__main__":
    main()
