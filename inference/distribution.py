"""A forecast distribution over log returns, and the prices and intervals read from it.

Every model reports the same few quantiles; other levels (the confidence intervals a
request asks for) are read off them by tft.quantiles.quantile_at.
"""
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.stats import norm

from schemas import QUANTILES
from tft.quantiles import quantile_at
_Z = norm.ppf(QUANTILES)


@dataclass(frozen=True)
class Distribution:
    horizons: tuple[int, ...]
    quantiles: np.ndarray  # (H, Q) log-return quantiles at QUANTILES, non-decreasing in Q
    point: np.ndarray  # (H,) point forecast of the log return
    volatility: np.ndarray  # (H,) standard deviation of the log return
    prob_up: np.ndarray  # (H,) P(log return > 0)
    # From the same forward pass, for models that attend (the TFT); None otherwise.
    temporal: np.ndarray | None = field(default=None, compare=False)  # (H, E) attention over the encoder days
    selection: np.ndarray | None = field(default=None, compare=False)  # (V,) variable-selection weights

    def __post_init__(self):
        assert self.quantiles.shape == (len(self.horizons), len(QUANTILES))
        assert np.all(np.diff(self.quantiles, axis=1) >= 0), "quantiles cross"

    def at(self, levels: np.ndarray) -> np.ndarray:
        """(H, L) log-return quantiles at arbitrary levels in (0, 1)."""
        return quantile_at(levels, QUANTILES, self.quantiles)

    def select(self, horizons: list[int]) -> "Distribution":
        idx = [self.horizons.index(h) for h in horizons]
        return Distribution(tuple(horizons), self.quantiles[idx], self.point[idx], self.volatility[idx],
                            self.prob_up[idx], None if self.temporal is None else self.temporal[idx], self.selection)

    def widened(self, scale: float) -> "Distribution":
        """The same centre with quantiles spread `scale` times further from the median."""
        mid = self.quantiles[:, [QUANTILES.index(0.5)]]
        return replace(self, quantiles=mid + (self.quantiles - mid) * scale, volatility=self.volatility * scale)


def gaussian(horizons: tuple[int, ...], mu: np.ndarray, sigma: np.ndarray) -> Distribution:
    """Gaussian log returns with mean `mu` (H,) and standard deviation `sigma` (H,)."""
    q = mu[:, None] + sigma[:, None] * _Z[None, :]
    prob_up = norm.sf(0.0, loc=mu, scale=np.maximum(sigma, 1e-12))
    return Distribution(horizons, q, mu, sigma, prob_up)
