"""Each symbol's whole forecast distribution, as the service serves it, on one grid of
normal scores: what a book's joint distribution is built from, and what an outcome's
probability integral transform is read off.

A served forecast is the model's quantiles, read at other levels by tft.quantiles (linear
in normal score, the outer segments extended into the tails), spread about the median by
the risk rules' factor and by the adaptive scale of the central interval each level bounds
(inference/conformal.py). Tabulating that once per forecast on a fixed, uniform grid of
scores turns every later look-up into one multiply-add, and the same table answers both
directions: score -> log return (sampling) and log return -> score (an outcome's PIT).
"""
import numpy as np
from scipy.stats import norm

from inference.conformal import LEVELS
from schemas import QUANTILES
from tft.quantiles import quantile_at_scores

Z = np.linspace(-8.0, 8.0, 1601)  # the grid of normal scores: 0.01 apart (an adaptive scale has kinks), past any draw
_DZ = Z[1] - Z[0]
_MID = QUANTILES.index(0.5)
_CENTRAL = np.abs(2 * norm.cdf(Z) - 1)  # (K,) the central interval each score bounds


def table(q: np.ndarray, spread: np.ndarray | None = None, log_scales: np.ndarray | None = None) -> np.ndarray:
    """q (N, Q) raw log-return quantiles at QUANTILES; spread (N,) the risk rules' factor;
    log_scales (N, len(LEVELS)) the adaptive interval scales -> (N, K) served log-return
    quantiles at the scores Z. Non-decreasing along K however the scales differ."""
    n = len(q)
    raw = quantile_at_scores(Z, QUANTILES, q)  # (N, K)
    s = np.ones((n, 1)) if spread is None else np.asarray(spread, dtype=float)[:, None]
    if log_scales is not None:
        s = s * np.exp(np.stack([np.interp(_CENTRAL, LEVELS, row) for row in np.atleast_2d(log_scales)]))
    mid = q[:, [_MID]]
    out = mid + (raw - mid) * s
    k0 = len(Z) // 2  # Z is symmetric: its middle is the median
    out[:, k0:] = np.maximum.accumulate(out[:, k0:], axis=1)
    out[:, :k0 + 1] = np.minimum.accumulate(out[:, k0::-1], axis=1)[:, ::-1]
    return out


def at_scores(tab: np.ndarray, z: np.ndarray, start: float = Z[0], step: float = _DZ) -> np.ndarray:
    """tab (N, K) from `table`, z (M, N) normal scores, column j for row j of tab ->
    (M, N) log returns, linear between grid points. The grid is uniform, so a point's
    place is arithmetic, not a search; `start` and `step` name another uniform grid that
    `tab` is tabulated on."""
    n, k_max = tab.shape
    scalar = z.dtype.type  # float32 draws stay float32
    pos = np.clip((z - scalar(start)) * scalar(1 / step), 0.0, k_max - 1.001)
    k = pos.astype(np.intp)
    pos -= k
    k += np.arange(n) * k_max  # into tab flattened, row j's block for column j
    lo = np.take(tab, k)
    return lo + (np.take(tab, k + 1) - lo) * pos


def scores_of(tab: np.ndarray, y: np.ndarray) -> np.ndarray:
    """tab (N, K), y (N,) outcomes as log returns -> (N,) their normal scores under each
    forecast: Phi^-1 of the probability integral transform, within the grid's +-8."""
    out = np.empty(len(y))
    for i, (row, v) in enumerate(zip(tab, y)):
        if np.all(np.diff(row) > 0):
            out[i] = np.interp(v, row, Z)
            continue
        # A flat run (a degenerate forecast) makes the inverse ambiguous there: take its middle.
        xs, first = np.unique(row, return_index=True)
        last = len(row) - 1 - np.unique(row[::-1], return_index=True)[1]
        out[i] = np.interp(v, xs, (Z[first] + Z[last]) / 2)
    return out
