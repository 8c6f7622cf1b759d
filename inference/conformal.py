"""Intervals that adapt to the outcomes already seen: adaptive conformal inference
(Gibbs & Candes, 2021) on the spread of each central interval.

A forecast's c-interval is its median plus s_c times its own spread to the c-tails, so
the conformity score is the outcome's distance from the median in units of the
forecast's own spread, which moves with the forecast's volatility. Each s_c follows the
misses of the forecasts whose outcome has come: after a day's outcomes, log s_c moves by
GAMMA times (the share of them outside the interval minus 1 - c). It widens while
intervals miss too often and narrows while they hold too well, whatever the market did,
with no distributional assumption; the long-run miss rate is 1 - c by construction.
"""
from dataclasses import dataclass, field

import numpy as np

from schemas import QUANTILES
from tft.quantiles import quantile_at

LEVELS = (0.5, 0.68, 0.8, 0.95)  # the central intervals whose scales are learnt
GAMMA = 0.05  # per day of outcomes: set before the test years, from the ACI paper's range


@dataclass
class AdaptiveScales:
    """One horizon's scales, one per level of LEVELS (log, so a scale stays positive)."""

    gamma: float = GAMMA
    log_scale: np.ndarray = field(default_factory=lambda: np.zeros(len(LEVELS)))

    def scales(self, levels) -> np.ndarray:
        """(L,) the scale of each central level, interpolated between those learnt."""
        return np.exp(np.interp(levels, LEVELS, self.log_scale))

    def update(self, misses: np.ndarray) -> None:
        """misses (N, len(LEVELS)): whether each newly settled outcome fell outside each
        interval as it was served (scaled)."""
        if len(misses):
            self.log_scale = self.log_scale + self.gamma * (misses.mean(axis=0) - (1 - np.asarray(LEVELS)))


def intervals(q: np.ndarray, levels, scales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """q (N, Q) log-return quantiles at QUANTILES -> (lo, hi), each (N, L): the central
    intervals at `levels` with their spreads about the median scaled by `scales` (L,).
    Nested however the scales differ: a wider level is never inside a narrower one."""
    levels = np.asarray(levels, dtype=float)
    order = np.argsort(levels)
    mid = q[:, [QUANTILES.index(0.5)]]
    lo = mid - (mid - quantile_at((1 - levels) / 2, QUANTILES, q)) * scales
    hi = mid + (quantile_at((1 + levels) / 2, QUANTILES, q) - mid) * scales
    lo[:, order] = np.minimum.accumulate(lo[:, order], axis=1)
    hi[:, order] = np.maximum.accumulate(hi[:, order], axis=1)
    return lo, hi


def scaled_quantiles(q: np.ndarray, s: AdaptiveScales) -> np.ndarray:
    """q (N, Q) with each quantile's distance from the median scaled as the central
    interval it bounds is (0.25/0.75: the 50% interval, 0.1/0.9: the 80% one)."""
    central = np.abs(2 * np.asarray(QUANTILES) - 1)  # (Q,) 0.8, 0.5, 0, 0.5, 0.8
    mid = q[:, [QUANTILES.index(0.5)]]
    return mid + (q - mid) * s.scales(central)[None, :]
