"""Model variants for lifecycle tests: the committed model under another version."""
import shutil
import uuid
from pathlib import Path

import numpy as np
import torch

from inference.models import DEFAULT_ARTIFACT


def variant(folder: Path, name: str, interval_scale: float = 1.0) -> tuple[Path, str]:
    """The committed model renamed, its interval factors scaled (below 1: too narrow)."""
    blob = torch.load(DEFAULT_ARTIFACT, map_location="cpu", weights_only=True)
    version = f"tft-{name}-{uuid.uuid4().hex[:6]}"
    blob["meta"]["version"] = version
    blob["calibration"] = (np.array(blob["calibration"]) * interval_scale).tolist()
    path = folder / f"{name}.pt"
    torch.save(blob, path)
    shutil.copyfile(DEFAULT_ARTIFACT.with_suffix(".regime.json"), path.with_suffix(".regime.json"))
    return path, version
