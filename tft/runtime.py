"""What runs the forward pass in serving: torch, or onnxruntime on the graph exported
beside the artifact (tft/export.py). Both give a TFTOutput, and the forecasts are made
from it the same way (tft/predict.py).

TFT_RUNTIME=auto takes onnxruntime on the CPU wherever the artifact's graph is there,
and torch otherwise: on this 2-core CPU onnxruntime took a fraction of torch eager's
time per call at batch 1 and 64 (benchmarks/runtimes.py, README "ONNX Runtime"); on a
GPU nothing is measured yet, and torch (with bfloat16 autocast) stays.
"""
import importlib.util
import logging
from pathlib import Path

import numpy as np
import torch

from tft.config import RUNTIMES
from tft.export import INPUTS, OUTPUTS, export_onnx, onnx_path
from tft.model import TFTInputs, TFTOutput

log = logging.getLogger(__name__)


class RuntimeMissing(RuntimeError):
    pass


class OnnxModel:
    """An exported graph in an onnxruntime session, called as the torch model is."""

    def __init__(self, path: Path, device: torch.device, threads: int | None = None):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        # Idle threads sleep rather than spin: spinning between a steady stream's small
        # batches took the cores the event loop and the Kafka client need (at 10,000
        # requests/min, p50 1.3 s with it, against 67 ms under torch).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CPUExecutionProvider"]
        if device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": device.index or 0}))
        self.path = path
        self.session = ort.InferenceSession(str(path), options, providers=providers)
        self.providers = self.session.get_providers()
        self.version = self.session.get_modelmeta().custom_metadata_map.get("version")  # the artifact's

    def __call__(self, inputs: TFTInputs) -> TFTOutput:
        feed = {name: np.ascontiguousarray(getattr(inputs, name).cpu().numpy()) for name in INPUTS}
        out = self.session.run(list(OUTPUTS), feed)
        return TFTOutput(**{name: torch.from_numpy(a) for name, a in zip(OUTPUTS, out)})


def onnx_model(artifact, artifact_path: Path, device: torch.device, export: bool) -> OnnxModel | None:
    """The session on the artifact's graph. A missing or stale graph is exported first
    when `export` (tens of seconds, in the caller's thread), else there is none."""
    path = onnx_path(artifact_path)
    if path.is_file() and (model := OnnxModel(path, device)).version == artifact.version:
        return model
    if not export:
        return None
    log.info("exporting %s to %s for onnxruntime (tens of seconds, once)", artifact_path, path)
    return OnnxModel(export_onnx(artifact, path), device)


def choose_runtime(name: str, artifact, artifact_path: Path, device: torch.device) -> OnnxModel | None:
    """The onnxruntime session to serve with, or None for torch (see the module's note)."""
    if name not in RUNTIMES:
        raise ValueError(f"TFT_RUNTIME={name}: one of {', '.join(RUNTIMES)}")
    if name == "torch":
        return None
    if importlib.util.find_spec("onnxruntime") is None:
        if name == "onnx":
            raise RuntimeMissing("TFT_RUNTIME=onnx, but onnxruntime is not installed")
        return None
    if name == "auto" and device.type != "cpu":
        return None
    model = onnx_model(artifact, artifact_path, device, export=name == "onnx")
    if model is None:
        log.info("no graph of %s at %s: served by torch (`tft-forecast export` makes one)",
                 artifact.version, onnx_path(artifact_path))
    return model
