"""Does an ensemble earn its keep? Combine the backtests of TFT variants into one
backtest CSV that `tft-forecast evaluate` scores beside the members' own reports
(issue 14, item 3).

    for v in seed1 enc21 h1-5 h10-21; do   # e.g. training_config: {end: "2021-12-31", seed: 1}
      .venv/bin/tft-forecast train --data-dir ../shared/data --config $v.yaml --out artifacts/local/$v.pt
      .venv/bin/tft-forecast backtest --data-dir ../shared/data --model artifacts/local/$v.pt \\
          --start 2022-01-03 --out reports/ens/$v.csv
    done
    .venv/bin/python benchmarks/ensemble_backtests.py reports/bt/backtest.csv reports/ens/seed1.csv \\
        reports/ens/h1-5.csv+reports/ens/h10-21.csv --out reports/ens/ensemble.csv
    .venv/bin/tft-forecast evaluate reports/ens/ensemble.csv --data-dir ../shared/data --out reports/ens/eval

A member written A.csv+B.csv is one model per horizon group: the rows of A and B
together. By default every forecast column is the members' mean on the same (symbol,
date, horizon): the mean of sorted quantile vectors is sorted, and the mean of
probabilities a probability. With --validation (the same members' backtests of their
validation year, in the same order) the weights are learnt there instead, per horizon,
on the simplex, minimising the quantile loss of the combined quantiles.
"""
import argparse

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from features.data import load
from tft.backtest import COLUMNS
from tft.evaluate import attach_outcomes, forecast_log_quantiles, pinball

KEY = ["symbol", "date", "horizon"]
FORECAST = [c for c in COLUMNS if c not in KEY + ["close"]]


def read(member: str) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p, parse_dates=["date"]) for p in member.split("+")], ignore_index=True)


def aligned(members: list[pd.DataFrame]) -> list[pd.DataFrame]:
    rows = [m.set_index(KEY).sort_index() for m in members]
    if any(not r.index.equals(rows[0].index) for r in rows):
        raise ValueError("the backtests do not cover the same (symbol, date, horizon) rows")
    return rows


def combine(members: list[pd.DataFrame], weights: dict[int, np.ndarray] | None = None) -> pd.DataFrame:
    """weights: per horizon, one per member, summing to 1; None: the mean."""
    rows = aligned(members)
    h = rows[0].index.get_level_values("horizon")
    w = np.full((len(h), len(rows)), 1 / len(rows)) if weights is None else np.stack([weights[x] for x in h])
    out = rows[0][["close"]].copy()
    for c in FORECAST:
        out[c] = sum(w[:, k] * r[c].values for k, r in enumerate(rows))
    return out.reset_index()[COLUMNS]


def learn_weights(members: list[pd.DataFrame], panel: pd.DataFrame) -> dict[int, np.ndarray]:
    """Per horizon, the weights on the simplex with the least pinball loss of the combined
    log-return quantiles on these (validation) rows."""
    scored = [attach_outcomes(r.reset_index(), panel) for r in aligned(members)]
    out = {}
    for h in sorted(scored[0]["horizon"].unique()):
        at = [s[s["horizon"] == h] for s in scored]
        q = [forecast_log_quantiles(a) for a in at]  # each (N, Q)
        y = at[0]["y"].values
        k = len(q)
        start = np.full(k, 1 / k)
        scale = pinball(sum(start[j] * q[j] for j in range(k)), y)  # the loss is ~1e-3: SLSQP's tolerances are absolute
        loss = lambda w: pinball(sum(wk * qk for wk, qk in zip(w, q)), y) / scale
        w = minimize(loss, start, method="SLSQP", bounds=[(0, 1)] * k, options={"eps": 1e-4, "ftol": 1e-10},
                     constraints={"type": "eq", "fun": lambda w: w.sum() - 1}).x.clip(0, 1)
        out[int(h)] = w / w.sum()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("members", nargs="+", help="backtest CSVs of the same rows (A.csv+B.csv: a model per horizon group)")
    ap.add_argument("--validation", nargs="*", help="the members' validation-year backtests, to learn weights on")
    ap.add_argument("--data-dir", default="../shared/data", help="market data, for the validation outcomes")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    weights = None
    if args.validation:
        if len(args.validation) != len(args.members):
            raise SystemExit("--validation needs one backtest per member, in the same order")
        weights = learn_weights([read(m) for m in args.validation], load(args.data_dir).panel)
        for h, w in weights.items():
            print(f"h={h}: weights " + ", ".join(f"{m} {x:.3f}" for m, x in zip(args.members, w)))
    df = combine([read(m) for m in args.members], weights)
    df.to_csv(args.out, index=False, float_format="%.6g")
    print(f"wrote {len(df):,} rows, {'weighted' if weights else 'the mean'} of {len(args.members)} backtests, to {args.out}")


if __name__ == "__main__":
    main()
