"""Reading other levels off a few predicted quantiles.

The quantiles are interpolated linearly in normal-score space, which is exact for a
Gaussian, and the outer segments are extended into the tails. Used wherever an
interval is asked at a level the model does not output (68%, 95%).
"""
import numpy as np
from scipy.stats import norm


def quantile_at(levels, known_levels: tuple[float, ...], q: np.ndarray) -> np.ndarray:
    """q (..., Q) at known_levels -> (..., L) at levels."""
    return quantile_at_scores(norm.ppf(np.asarray(levels, dtype=np.float64)), known_levels, q)


def quantile_at_scores(z: np.ndarray, known_levels: tuple[float, ...], q: np.ndarray) -> np.ndarray:
    """The same at the levels' normal scores z (L,): exact far in the tails, where a level
    so near 0 or 1 has lost its digits."""
    zp = norm.ppf(np.asarray(known_levels, dtype=np.float64))
    k = np.clip(np.searchsorted(zp, z) - 1, 0, len(zp) - 2)  # segment; the end ones extrapolate
    w = (z - zp[k]) / (zp[k + 1] - zp[k])
    return q[..., k] * (1 - w) + q[..., k + 1] * w
