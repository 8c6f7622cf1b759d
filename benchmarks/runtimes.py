"""The forward pass by torch eager and by onnxruntime on the model's exported graph, on
the same real windows: milliseconds per call by batch size, the ratio, and the largest
difference between any of their outputs.

    .venv/bin/python benchmarks/runtimes.py --data-dir ../shared/data

The windows are the traded symbols' features on days drawn from 2019-2023, with their
cross-asset context. Each round times every batch size under both runtimes, one after
the other, so a slow minute of the machine falls on both; a figure is the median call of
a round, and the table gives the median round. Threads: as torch has them (the worker's).
"""
import argparse
import time

import numpy as np
import torch

from features.data import load
from inference.models import resolve_artifact
from tft.artifact import load as load_artifact
from tft.data import make_inputs, market_series
from tft.export import largest_difference, onnx_path
from tft.model import TFTInputs
from tft.predict import forward
from tft.runtime import OnnxModel


def windows(data_dir: str, artifact, n: int, seed: int = 0) -> TFTInputs:
    series = market_series(load(data_dir), "2023-12-29", list(artifact.spec.symbols))
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        i = int(rng.integers(len(series)))
        days = np.flatnonzero(series[i].dates >= np.datetime64("2019-01-01"))
        rows.append((i, int(rng.choice(days))))
    return make_inputs(series, np.array(rows), artifact.spec, artifact.scaler)[0]


def sliced(x: TFTInputs, n: int) -> TFTInputs:
    return TFTInputs(**{k: v[:n].contiguous() for k, v in vars(x).items()})


def median_ms(call, x, calls: int) -> float:
    call(x)  # warm-up: first-call allocations and, for onnxruntime, its arena
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--model", default="default")
    ap.add_argument("--batches", default="1,64,1024")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    path = resolve_artifact(args.model)
    artifact = load_artifact(path)
    session = OnnxModel(onnx_path(path), torch.device("cpu"), threads=args.threads)
    sizes = [int(b) for b in args.batches.split(",")]
    x = windows(args.data_dir, artifact, max(sizes))
    runtimes = {"torch": lambda b: forward(artifact.model, b), "onnx": session}
    worst = {}
    for b in sizes:
        want, got = runtimes["torch"](sliced(x, b)), session(sliced(x, b))
        worst[b] = largest_difference(want, got)
    times = {(name, b): [] for name in runtimes for b in sizes}
    for r in range(args.rounds):
        for b in sizes:
            calls = max(5, 2000 // b)
            for name, call in runtimes.items():
                times[name, b].append(median_ms(call, sliced(x, b), calls))
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"batch {b} torch {times['torch', b][-1]:.2f} onnx {times['onnx', b][-1]:.2f} ms" for b in sizes),
            flush=True)
    print(f"\n{artifact.version}, {args.threads} threads, {session.providers[0]}, onnxruntime vs torch "
          f"{torch.__version__} eager; median of {args.rounds} rounds")
    print(f"{'batch':>6} {'torch ms/call':>14} {'onnx ms/call':>13} {'onnx/torch':>11} {'onnx forecasts/s':>17} "
          f"{'max |diff|':>11}")
    for b in sizes:
        t, o = np.median(times["torch", b]), np.median(times["onnx", b])
        print(f"{b:>6} {t:>14.2f} {o:>13.2f} {o / t:>11.2f} {b / o * 1000:>17,.0f} {worst[b]:>11.1e}")


if __name__ == "__main__":
    main()
