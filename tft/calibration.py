"""Interval calibration: scale each central interval about the median so that, on
held-out days, it covers what it says.

Pinball loss gives quantiles calibrated on the training years; a held-out year can
say otherwise. Split-conformal reasoning corrects that: for the interval between the
levels q and 1-q, each held-out outcome needs the interval scaled by
s_i = (y - median) / (quantile - median) on the side it fell, and the (1-2q)-th
quantile of s_i over the held-out set is the factor that gives the interval its
nominal coverage there. One factor per horizon and interval, fitted on the
walk-forward validation year that training already holds out, keeps the model's shape
of uncertainty (calm and turbulent symbols, skew) and corrects its width. Both sides
share the factor: a bull year's drift must not teach the lower tail to shrink.
"""
import numpy as np


def fit(quantiles: np.ndarray, y: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """quantiles (N, Z, Q) and outcomes y (N, Z) in the same units -> factors (Z, Q)."""
    Q, m = len(levels), list(levels).index(0.5)
    assert np.allclose(np.add(levels, levels[::-1]), 1), "levels must pair up around the median"
    median = quantiles[..., m]  # (N, Z)
    factors = np.ones(quantiles.shape[1:])
    for lo in range(m):
        hi = Q - 1 - lo
        below = y < median
        spread = np.where(below, quantiles[..., lo], quantiles[..., hi]) - median  # (N, Z)
        with np.errstate(divide="ignore", invalid="ignore"):
            need = (y - median) / spread  # the scale at which the interval just holds y
        need[np.abs(spread) < 1e-12] = np.nan
        factors[:, [lo, hi]] = np.nanquantile(need, levels[hi] - levels[lo], axis=0)[:, None]
    return np.clip(factors, 0.2, 5.0)


def apply(quantiles: np.ndarray, factors: np.ndarray | None, levels: tuple[float, ...]) -> np.ndarray:
    """(N, Z, Q) quantiles with their distances from the median scaled by factors (Z, Q)."""
    if factors is None:
        return quantiles
    median = quantiles[..., [list(levels).index(0.5)]]
    return np.sort(median + factors * (quantiles - median), axis=-1)


def coverage(quantiles: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(Z, Q//2) share of outcomes inside each central interval, outermost first."""
    Q = quantiles.shape[-1]
    return np.stack([((quantiles[..., j] <= y) & (y <= quantiles[..., Q - 1 - j])).mean(axis=0)
                     for j in range(Q // 2)], axis=-1)
