"""One file per trained model: weights, config, inputs, scaler, dates, metrics, commit.

Loading needs no training code and no pickled objects (`weights_only=True`): the
metadata is plain lists, numbers and strings.
"""
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from features.catalog import NAMES, OBSERVED
from features.scaling import Scaler
from tft.config import TFTConfig
from tft.data import InputSpec
from tft.device import choose
from tft.model import TemporalFusionTransformer

FORMAT = 1


@dataclass(frozen=True)
class Artifact:
    model: TemporalFusionTransformer
    config: TFTConfig
    spec: InputSpec
    scaler: Scaler
    meta: dict  # version, train/validation ranges, metrics, git commit, created_at
    calibration: np.ndarray | None = None  # (Z, Q) interval factors, see tft/calibration.py

    @property
    def version(self) -> str:
        return self.meta["version"]


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def save(path: Path, model: TemporalFusionTransformer, spec: InputSpec, scaler: Scaler,
         meta: dict, calibration: np.ndarray | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    config = asdict(model.config)
    torch.save({
        "format": FORMAT,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
        "spec": {"symbols": list(spec.symbols), "encoder_length": spec.encoder_length,
                 "decoder_length": spec.decoder_length, "horizons": list(spec.horizons),
                 "observed": list(spec.observed)},
        "features": list(NAMES),
        "scaler": scaler.to_dict(),
        "meta": {"git_commit": git_commit(), "created_at": datetime.now(UTC).isoformat(), **meta},
        "calibration": None if calibration is None else calibration.tolist(),
    }, path)


def set_calibration(path: Path | str, calibration: np.ndarray, info: dict) -> None:
    """Store interval factors in an existing artifact; its weights stay as they are."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    blob["calibration"] = calibration.tolist()
    blob["meta"]["calibration"] = info
    torch.save(blob, path)


class ArtifactError(ValueError):
    pass


def load(path: Path | str, device: str = "cpu") -> Artifact:
    """`device`: cpu, cuda[:N] or auto (tft.device.choose)."""
    device = choose(device)
    blob = torch.load(path, map_location=device, weights_only=True)
    if blob.get("format") != FORMAT:
        raise ArtifactError(f"{path}: artifact format {blob.get('format')}, expected {FORMAT}")
    if blob["features"] != list(NAMES):
        raise ArtifactError(f"{path} was trained on a different feature list; retrain it")
    c = blob["config"]
    config = TFTConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in c.items()})
    model = TemporalFusionTransformer(config)
    model.load_state_dict(blob["state_dict"])
    model.to(device).eval()
    s = blob["spec"]
    spec = InputSpec(tuple(s["symbols"]), s["encoder_length"], s["decoder_length"], tuple(s["horizons"]),
                     tuple(s.get("observed", OBSERVED)))  # artifacts from before pruning read every feature
    calibration = blob.get("calibration")  # absent from artifacts made before calibration
    return Artifact(model, config, spec, Scaler.from_dict(blob["scaler"]), blob["meta"],
                    None if calibration is None else np.array(calibration))
