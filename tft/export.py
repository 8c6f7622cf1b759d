"""The model as an ONNX graph: what onnxruntime serves on the CPU (tft/runtime.py), and
what a forecast at the edge needs with no PyTorch at all (README, "ONNX Runtime").

The graph's inputs are named as TFTInputs' fields and its outputs as TFTOutput's, with
a dynamic batch axis. torch.onnx's dynamo exporter writes it: the TorchScript one
traced the example's batch size into a reshape, and the graph refused any other. An
export takes tens of seconds, so it is made once per artifact and kept beside it
(`onnx_path`), never in a request's path. The artifact's version is stored in the
graph's metadata, so a graph left beside a newer artifact is not served for it.
"""
import copy
import logging
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from tft.artifact import Artifact
from tft.config import TFTConfig
from tft.model import TemporalFusionTransformer, TFTInputs, TFTOutput

OPSET = 18
INPUTS = tuple(f.name for f in fields(TFTInputs))
OUTPUTS = tuple(f.name for f in fields(TFTOutput))
MAX_BATCH = 1 << 16
# Its optimiser's passes log every initializer they merge, at INFO: hundreds of lines an export.
logging.getLogger("onnx_ir").setLevel(logging.WARNING)


def onnx_path(artifact_path: Path) -> Path:
    """Where the graph exported from an artifact lives: beside it."""
    return Path(artifact_path).with_suffix(".onnx")


class _Flat(nn.Module):
    """The model with tensors in and a tuple out, the only signature an exporter traces."""

    def __init__(self, model: TemporalFusionTransformer):
        super().__init__()
        self.model = model

    def forward(self, static, observed, observed_mask, known_past, known_future) -> tuple[torch.Tensor, ...]:
        out = self.model(TFTInputs(static, observed, observed_mask, known_past, known_future))
        return tuple(getattr(out, name) for name in OUTPUTS)


def largest_difference(a: TFTOutput, b: TFTOutput) -> float:
    """The largest absolute difference between any two outputs of two runs."""
    return max(float((getattr(a, n).float() - getattr(b, n).float()).abs().max()) for n in OUTPUTS)


def example_inputs(config: TFTConfig, batch: int = 2) -> TFTInputs:
    """A batch of the shapes the model reads; the values only need to be valid."""
    E, H, O, K = config.encoder_length, config.decoder_length, config.n_observed, config.n_known
    return TFTInputs(static=torch.zeros(batch, 2, dtype=torch.long), observed=torch.zeros(batch, E, O),
                     observed_mask=torch.ones(batch, E, O), known_past=torch.zeros(batch, E, K),
                     known_future=torch.zeros(batch, H, K))


def export_onnx(artifact: Artifact, path: Path) -> Path:
    """Write the artifact's model to `path` as an ONNX graph with a dynamic batch axis."""
    model = _Flat(copy.deepcopy(artifact.model).to("cpu")).eval()  # the served one may be on a GPU
    example = example_inputs(artifact.config)
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    program = torch.onnx.export(model, tuple(getattr(example, n) for n in INPUTS), input_names=list(INPUTS),
                                output_names=list(OUTPUTS), opset_version=OPSET, dynamo=True, verbose=False,
                                dynamic_shapes={n: {0: batch} for n in INPUTS})
    proto = program.model_proto
    del proto.metadata_props[:]
    for key, value in (("version", artifact.version), ("horizons", ",".join(map(str, artifact.spec.horizons))),
                       ("quantiles", ",".join(map(str, artifact.config.quantiles)))):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".onnx.tmp")
    tmp.write_bytes(proto.SerializeToString())
    tmp.replace(path)  # whole or not at all: a worker may be reading the one before
    return path


def window_inputs(artifact: Artifact, series) -> dict[str, np.ndarray]:
    """A symbol's last window as the graph's inputs, with what turns the graph's outputs
    into prices: the scales (1, Z), the last close, the horizons, the quantile levels and
    the calibration factors (Z, Q). `series`: the symbol's SymbolSeries (tft/data.py)."""
    from tft.data import make_inputs
    inputs, scales = make_inputs([series], np.array([[0, len(series.dates) - 1]]), artifact.spec, artifact.scaler)
    calibration = artifact.calibration if artifact.calibration is not None else np.ones(
        (len(artifact.spec.horizons), len(artifact.config.quantiles)))
    return {**{n: getattr(inputs, n).numpy() for n in INPUTS}, "scales": scales.astype(np.float32),
            "last_close": np.float64(series.close[-1]), "as_of": np.str_(str(series.dates[-1])),
            "horizons": np.array(artifact.spec.horizons), "quantiles": np.array(artifact.config.quantiles),
            "calibration": calibration}
