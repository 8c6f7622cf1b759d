"""Does an ensemble earn its keep? Quantile-average the backtests of models that differ
only in their seed, into one backtest CSV that `tft-forecast evaluate` scores beside the
members' own reports (issue 14, item 3).

    for s in 1 2; do
      printf 'training_config: {end: "2021-12-31", seed: %s}\\n' $s > seed$s.yaml
      .venv/bin/tft-forecast train --data-dir ../shared/data --config seed$s.yaml --out artifacts/local/tft-2021-s$s.pt
      .venv/bin/tft-forecast backtest --data-dir ../shared/data --model artifacts/local/tft-2021-s$s.pt \\
          --start 2022-01-03 --out reports/ens/s$s.csv
    done
    .venv/bin/python benchmarks/ensemble_backtests.py reports/bt/backtest.csv reports/ens/s1.csv \\
        reports/ens/s2.csv --out reports/ens/ensemble.csv
    .venv/bin/tft-forecast evaluate reports/ens/ensemble.csv --data-dir ../shared/data --out reports/ens/eval

Every forecast column is the members' mean on the same (symbol, date, horizon): the mean
of sorted quantile vectors is sorted, and the mean of probabilities a probability.
"""
import argparse
from pathlib import Path

import pandas as pd

from tft.backtest import COLUMNS

KEY = ["symbol", "date", "horizon"]


def combine(members: list[pd.DataFrame]) -> pd.DataFrame:
    rows = [m.set_index(KEY).sort_index() for m in members]
    if any(not r.index.equals(rows[0].index) for r in rows):
        raise ValueError("the backtests do not cover the same (symbol, date, horizon) rows")
    forecast = [c for c in COLUMNS if c not in KEY + ["close"]]
    out = rows[0][["close"]].copy()
    for c in forecast:
        out[c] = sum(r[c] for r in rows) / len(rows)
    return out.reset_index()[COLUMNS]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("members", nargs="+", type=Path, help="backtest CSVs of the same rows")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    df = combine([pd.read_csv(p, parse_dates=["date"]) for p in args.members])
    df.to_csv(args.out, index=False, float_format="%.6g")
    print(f"wrote {len(df):,} rows, the mean of {len(args.members)} backtests, to {args.out}")


if __name__ == "__main__":
    main()
