"""The serving forward pass replayed from CUDA graphs, one per batch-size bucket.

On a GPU this model is bound by launching kernels, not by arithmetic: one call took
18 ms on an H200 whatever the batch from 1 to 1,024 (issue 28). A CUDA graph records
a call's kernels once and replays them as one launch. A graph holds fixed shapes, so a
batch is padded up to the next bucket (repeating its first sample: every sample is
computed on its own, so padding changes no other row's outputs, which
tests/tft/test_graphs.py checks on the CPU) and the padded rows' outputs dropped. Each
bucket is captured on its first use; a batch larger than the last bucket runs eagerly.

Opt-in (TFT_CUDA_GRAPHS) until measured on a GPU: benchmarks/gpu.py times it there.
"""
from dataclasses import fields

import torch

from tft.device import autocast
from tft.model import TemporalFusionTransformer, TFTInputs, TFTOutput

BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def bucket(n: int, buckets: tuple[int, ...] = BUCKETS) -> int | None:
    """The smallest bucket that holds n samples; None beyond the last."""
    return next((b for b in buckets if b >= n), None)


def padded(inputs: TFTInputs, size: int) -> TFTInputs:
    """The batch with its first sample repeated up to `size` rows."""
    n = inputs.static.shape[0]
    if n == size:
        return inputs

    def pad(t: torch.Tensor) -> torch.Tensor:
        return torch.cat([t, t[:1].expand(size - n, *t.shape[1:])])
    return TFTInputs(**{f.name: pad(getattr(inputs, f.name)) for f in fields(TFTInputs)})


class GraphedModel:
    """Called as the model is (inputs -> TFTOutput), under no_grad and autocast."""

    def __init__(self, model: TemporalFusionTransformer, buckets: tuple[int, ...] = BUCKETS):
        self.model = model.eval()
        self.device = next(model.parameters()).device
        if self.device.type != "cuda":
            raise ValueError("CUDA graphs need the model on a CUDA device")
        self.buckets = buckets
        self.graphs: dict[int, tuple[torch.cuda.CUDAGraph, TFTInputs, TFTOutput]] = {}

    @torch.no_grad()
    def _capture(self, example: TFTInputs) -> tuple[torch.cuda.CUDAGraph, TFTInputs, TFTOutput]:
        static = TFTInputs(**{f.name: getattr(example, f.name).clone() for f in fields(TFTInputs)})
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side), autocast(self.device):
            for _ in range(3):  # warm-up outside the graph: cuBLAS handles, autocast caches
                self.model(static)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), autocast(self.device):
            out = self.model(static)
        return graph, static, out

    @torch.no_grad()
    def __call__(self, inputs: TFTInputs) -> TFTOutput:
        inputs = inputs.to(self.device)
        n = inputs.static.shape[0]
        size = bucket(n, self.buckets)
        if size is None:
            with autocast(self.device):
                return self.model(inputs)
        batch = padded(inputs, size)
        if size not in self.graphs:
            self.graphs[size] = self._capture(batch)
        graph, static, out = self.graphs[size]
        for f in fields(TFTInputs):
            getattr(static, f.name).copy_(getattr(batch, f.name))
        graph.replay()
        # cloned: the next replay overwrites the graph's outputs
        return TFTOutput(**{f.name: getattr(out, f.name)[:n].clone() for f in fields(TFTOutput)})
