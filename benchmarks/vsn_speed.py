"""The fused variable selection network (tft/blocks.py) against the paper's
(tft/reference.py), same weights, at the default model's encoder selection: 76 observed
and 6 known variables 8 wide, hidden 32, 63 days, a batch of 128 (the training batch).
Both start from the raw inputs, so each pays for its own embedding. Timing does not
depend on the values, so the inputs are random.

    .venv/bin/python benchmarks/vsn_speed.py [--threads 2] [--repeats 10]
"""
import argparse
import time

import numpy as np
import torch

from tft.blocks import EmbeddedVariables, VariableSelectionNetwork, VariableWiseLinear
from tft.config import TFTConfig
from tft.reference import from_fused

O, K, B = 76, 6, 128


def times_ms(steps: dict, repeats: int) -> dict[str, np.ndarray]:
    """(repeats,) ms of each step, run in turn, so a slow spell of a shared machine falls on all."""
    times = {name: [] for name in steps}
    for i in range(repeats + 1):  # the first round warms up
        for name, step in steps.items():
            t = time.perf_counter()
            step()
            if i:
                times[name].append((time.perf_counter() - t) * 1000)
    return {name: np.array(t) for name, t in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = TFTConfig()
    D, d, E = cfg.hidden_size, cfg.variable_size, cfg.encoder_length
    observed, known = VariableWiseLinear(O, 2, d), VariableWiseLinear(K, 1, d)
    fused = VariableSelectionNetwork(O + K, d, D, cfg.dropout, D)
    raw_o, raw_k, c = torch.randn(O, 2, B, E), torch.randn(K, 1, B, E), torch.randn(B, 1, D)

    def embedded() -> torch.Tensor:  # (B, E, V, d), the reference's layout
        return torch.movedim(torch.cat([observed(raw_o), known(raw_k)]), (0, 1), (-2, -1))

    def backward(run):
        out, _ = run()
        out.sum().backward()

    print(f"V={O + K} d={d} D={D} B={B} E={E}, {args.threads} threads, torch {torch.__version__}")
    for mode in ("forward (eval, no grad)", "forward+backward (train)"):
        training = mode.startswith("forward+")
        fused.train(training)
        reference = from_fused(fused)
        runs = {"fused": lambda: fused(EmbeddedVariables((observed, raw_o), (known, raw_k)), c),
                "reference": lambda: reference(embedded(), c)}
        if training:
            ms = times_ms({name: lambda run=run: backward(run) for name, run in runs.items()}, args.repeats)
        else:
            with torch.no_grad():
                ms = times_ms(runs, args.repeats)
        fast, slow = ms["fused"], ms["reference"]
        print(f"{mode}: fused {np.median(fast):.1f} ms, reference {np.median(slow):.1f} ms (medians); "
              f"reference / fused by round: median {np.median(slow / fast):.1f}x, "
              f"range {(slow / fast).min():.1f}-{(slow / fast).max():.1f}x")


if __name__ == "__main__":
    main()
