"""Scaling fitted on training dates only, saved with the model.

Fill rule: a feature that is NaN (undefined or not yet available) becomes 0 after
scaling, which is its training median, and its mask is 0 so the model can tell a
real median from a missing value. Scaled values are clipped to +-CLIP robust standard
deviations so that a glitch in one input cannot dominate a forward pass.
"""
import warnings
from dataclasses import dataclass

import numpy as np

CLIP = 5.0


@dataclass(frozen=True)
class Scaler:
    names: tuple[str, ...]
    center: np.ndarray  # (F,) median of the training rows
    scale: np.ndarray  # (F,) robust standard deviation of the training rows

    @classmethod
    def fit(cls, x: np.ndarray, names: tuple[str, ...]) -> "Scaler":
        """x: (N, F) raw training rows, NaN where missing."""
        assert x.shape[1] == len(names)
        with warnings.catch_warnings():
            # a feature with no training value at all (a series that starts later) is expected
            warnings.simplefilter("ignore", RuntimeWarning)
            q25, center, q75 = np.nanpercentile(x, [25, 50, 75], axis=0)
            scale = (q75 - q25) / 1.349
            # Binary or mostly-constant features have no interquartile range.
            scale = np.where(scale > 1e-12, scale, np.nanstd(x, axis=0))
        center = np.nan_to_num(center)
        scale = np.where(np.isfinite(scale) & (scale > 1e-12), scale, 1.0)
        return cls(tuple(names), center, scale)

    def transform(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x: (..., F) raw -> (values (..., F) float32 finite, mask (..., F) float32 in {0, 1})."""
        mask = np.isfinite(x)
        z = np.clip((x - self.center) / self.scale, -CLIP, CLIP)
        return np.where(mask, z, 0.0).astype(np.float32), mask.astype(np.float32)

    def to_dict(self) -> dict:
        return {"names": list(self.names), "center": self.center.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Scaler":
        return cls(tuple(d["names"]), np.asarray(d["center"]), np.asarray(d["scale"]))

