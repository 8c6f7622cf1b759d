"""This TFT against pytorch-forecasting's TemporalFusionTransformer, side by side, on
the same real inputs: per-forecast inference time (batched) and time per training epoch.

pytorch-forecasting pins pandas < 3.1, so it lives in its own environment, used only
here:
    python3 -m venv .bench-venv
    .bench-venv/bin/pip install torch==2.13.0 pytorch-forecasting==1.8.0 "pandas<3.1"
    .venv/bin/python benchmarks/tft_speed.py --data-dir ../shared/data

This script builds real feature windows (8 symbols, 2015-2019), times this project's
model, writes the same windows to a file and runs benchmarks/pf_speed.py on them in
.bench-venv, for several rounds; inference is the median time of a batch over 20
batches. Both use hidden 32, 4 heads, encoder 63, decoder 21, 76 observed and 6 known
inputs (all of the catalog), variable width 8 (pytorch-forecasting's
hidden_continuous_size).
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from features.catalog import KNOWN, NAMES, OBSERVED
from features.cross_asset import Context
from features.data import load
from features.scaling import Scaler
from tft.config import TFTConfig
from tft.data import ASSET_CLASSES, InputSpec, make_inputs, panel_series, sample_days, targets
from tft.losses import tft_loss
from tft.model import TemporalFusionTransformer
from timing import ms_per_forecast  # benchmarks/, beside this script

SYMBOLS = ["SPY", "QQQ", "AAPL", "MSFT", "JPM", "XOM", "TLT", "GLD"]
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--train-batches", type=int, default=20)
    ap.add_argument("--infer-batches", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    data = load(args.data_dir)
    bars = data.all_bars()
    bars = bars[(bars["date"] >= "2013-01-01") & (bars["date"] <= "2019-12-31")]
    series = panel_series(bars[bars["symbol"].isin(SYMBOLS)], Context.from_bars(bars))
    cfg = TFTConfig(hidden_size=32, num_heads=4, encoder_length=63, variable_size=8, dropout=0.1,
                    n_observed=len(OBSERVED), n_known=len(KNOWN), n_symbols=len(SYMBOLS) + 1,
                    n_asset_classes=len(ASSET_CLASSES))
    spec = InputSpec(tuple(SYMBOLS), cfg.encoder_length, cfg.decoder_length, cfg.horizons)
    scaler = Scaler.fit(np.concatenate([s.features for s in series]), NAMES)
    idx = sample_days(series, spec, np.datetime64("2015-01-01"), None, need_target=True)
    rng = np.random.default_rng(0)
    n = args.batch_size * max(args.train_batches, args.infer_batches)
    pick = idx[rng.permutation(len(idx))[:n]]
    inputs, scales = make_inputs(series, pick, spec, scaler)
    y_all = [targets(s.close, cfg.horizons) for s in series]
    y = torch.from_numpy((np.stack([y_all[s][t] for s, t in pick]) / scales).astype(np.float32))

    pf_python = ROOT / ".bench-venv" / "bin" / "python"
    if not pf_python.exists():
        sys.exit("pytorch-forecasting is not installed in .bench-venv; see this file's docstring")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "windows.npz"
        np.savez(path, observed=inputs.observed.numpy(), known_past=inputs.known_past.numpy(),
                 known_future=inputs.known_future.numpy(), static=inputs.static.numpy(),
                 y=y.numpy(), batch_size=args.batch_size, train_batches=args.train_batches,
                 infer_batches=args.infer_batches, threads=args.threads,
                 levels=np.asarray(TFTConfig().quantiles))
        # Rounds alternate the two models, so a slow spell of a shared machine falls on both.
        for r in range(args.rounds):
            rows.append({"round": r + 1, "model": "this TFT", **time_ours(cfg, inputs, y, args)})
            out = subprocess.run([str(pf_python), str(ROOT / "benchmarks" / "pf_speed.py"), str(path)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(out.stderr)
            rows.append({"round": r + 1, "model": "pytorch-forecasting 1.8.0",
                         **json.loads(out.stdout.strip().splitlines()[-1])})

    rows = pd.DataFrame(rows)
    print(f"batch {args.batch_size}, {args.threads} CPU threads, torch {torch.__version__}")
    print(rows.to_string(index=False, float_format="{:.3f}".format))
    ratios = rows.pivot(index="round", columns="model", values=["infer_ms_per_forecast", "train_s_per_epoch"])
    for what, col in (("inference", "infer_ms_per_forecast"), ("training", "train_s_per_epoch")):
        r = ratios[col]["this TFT"] / ratios[col]["pytorch-forecasting 1.8.0"]
        print(f"{what} ratio (ours / theirs) by round: {', '.join(f'{v:.2f}' for v in r)}; median {r.median():.2f}")


def time_ours(cfg, inputs, y, args) -> dict:
    torch.manual_seed(0)
    model = TemporalFusionTransformer(cfg)
    B = args.batch_size
    batch = lambda i: (type(inputs)(**{k: v[i * B:(i + 1) * B] for k, v in vars(inputs).items()}), y[i * B:(i + 1) * B])
    infer = ms_per_forecast(model, [batch(i)[0] for i in range(args.infer_batches)], B)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t = time.perf_counter()
    for i in range(args.train_batches):
        x, yy = batch(i)
        loss, _ = tft_loss(model(x), yy, cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()
    train = time.perf_counter() - t
    return {"params": sum(p.numel() for p in model.parameters()), "infer_ms_per_forecast": infer,
            "train_s_per_epoch": train}


if __name__ == "__main__":
    main()
