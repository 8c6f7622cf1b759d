"""A forecast distribution over log returns, and the prices and intervals read from it.

Every model reports the same few quantiles. Other levels (the confidence intervals a
request asks for) are read by interpolating the quantiles linearly in normal-score
space, which is exact for a Gaussian and extrapolates the outer slope for the tails.
"""
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
_Z = norm.ppf(QUANTILES)


@dataclass(frozen=True)
class Distribution:
    horizons: tuple[int, ...]
    quantiles: np.ndarray  # (H, Q) log-return quantiles at QUANTILES, non-decreasing in Q
    point: np.ndarray  # (H,) point forecast of the log return
    volatility: np.ndarray  # (H,) standard deviation of the log return
    prob_up: np.ndarray  # (H,) P(log return > 0)

    def __post_init__(self):
        assert self.quantiles.shape == (len(self.horizons), len(QUANTILES))
        assert np.all(np.diff(self.quantiles, axis=1) >= 0), "quantiles cross"

    def at(self, levels: np.ndarray) -> np.ndarray:
        """(H, L) log-return quantiles at arbitrary levels in (0, 1)."""
        z = norm.ppf(np.asarray(levels, dtype=np.float64))
        return np.stack([_interp_extrapolate(z, _Z, q) for q in self.quantiles])

    def select(self, horizons: list[int]) -> "Distribution":
        idx = [self.horizons.index(h) for h in horizons]
        return Distribution(tuple(horizons), self.quantiles[idx], self.point[idx],
                            self.volatility[idx], self.prob_up[idx])

    def widened(self, scale: float) -> "Distribution":
        """The same centre with quantiles spread `scale` times further from the median."""
        mid = self.quantiles[:, [QUANTILES.index(0.5)]]
        return Distribution(self.horizons, mid + (self.quantiles - mid) * scale, self.point,
                            self.volatility * scale, self.prob_up)


def _interp_extrapolate(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    y = np.interp(x, xp, fp)
    lo_slope = (fp[1] - fp[0]) / (xp[1] - xp[0])
    hi_slope = (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    y = np.where(x < xp[0], fp[0] + (x - xp[0]) * lo_slope, y)
    return np.where(x > xp[-1], fp[-1] + (x - xp[-1]) * hi_slope, y)


def gaussian(horizons: tuple[int, ...], mu: np.ndarray, sigma: np.ndarray) -> Distribution:
    """Gaussian log returns with mean `mu` (H,) and standard deviation `sigma` (H,)."""
    q = mu[:, None] + sigma[:, None] * _Z[None, :]
    prob_up = norm.sf(0.0, loc=mu, scale=np.maximum(sigma, 1e-12))
    return Distribution(horizons, q, mu, sigma, prob_up)
