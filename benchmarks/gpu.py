"""The forward pass on a GPU by batch size: torch eager (bfloat16 autocast), torch
replaying CUDA graphs (tft/graphs.py), and onnxruntime's CUDA provider where it is
installed (`pip install onnxruntime-gpu`, in place of onnxruntime).

    .venv/bin/python benchmarks/gpu.py --data-dir ../shared/data [--batches 1,8,64,256,1024,8192]

Prints ms per call and forecasts/s for each, the largest difference of the graphs'
outputs from eager's, and peak GPU memory. Written to run in one call of a lent GPU
(minutes, most of it loading the data); the figures go to docs/results/gpu.md.
"""
import argparse

import torch

from inference.models import resolve_artifact
from tft.artifact import load
from tft.export import largest_difference, onnx_path
from tft.graphs import GraphedModel
from tft.predict import forward
from runtimes import sliced, windows  # benchmarks/, beside this script: the same real windows


def ms_per_call(call, x, calls: int) -> float:
    for _ in range(3):
        call(x)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(calls):
        call(x)
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / calls


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--model", default="default")
    ap.add_argument("--batches", default="1,8,64,256,1024,8192")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this benchmark is for a GPU (benchmarks/runtimes.py times the CPU)")
    path = resolve_artifact(args.model)
    artifact = load(path, "cuda")
    sizes = [int(b) for b in args.batches.split(",")]
    x = windows(args.data_dir, artifact, max(sizes)).to("cuda")
    graphed = GraphedModel(artifact.model, buckets=tuple(sizes))
    runners = {"eager": lambda b: forward(artifact.model, b), "graphs": graphed}
    try:
        from tft.runtime import OnnxModel
        session = OnnxModel(onnx_path(path), torch.device("cuda"))
        if session.providers[0] == "CUDAExecutionProvider":
            runners["onnxruntime-cuda"] = session
        else:
            print("onnxruntime has no CUDA provider here (pip install onnxruntime-gpu): not timed")
    except (ImportError, FileNotFoundError) as e:
        print(f"onnxruntime not timed: {e}")
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, {artifact.version}")
    print(f"{'batch':>6} " + " ".join(f"{n + ' ms':>22} {'/s':>10}" for n in runners) + f" {'graphs |diff|':>14}")
    for b in sizes:
        xb = sliced(x, b)
        calls = max(10, min(200, 20000 // b))
        row = []
        for call in runners.values():
            ms = ms_per_call(call, xb, calls)
            row.append(f"{ms:>22.3f} {b / ms * 1000:>10,.0f}")
        want, got = forward(artifact.model, xb), graphed(xb)
        diff = largest_difference(want, got)
        print(f"{b:>6} " + " ".join(row) + f" {diff:>14.1e}", flush=True)
    print(f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
