"""Trailing-window statistics on numpy arrays.

Each output at t depends on inputs at t-n+1..t only; the first n-1 outputs are NaN.
TA-Lib computes them in C with running sums: a streaming window and the full panel
agree to ~1e-12 relative, far inside the parity test's tolerance. A running sum
never recovers from a NaN inside the series (a context feed that went stale), so when
TA-Lib's last value is NaN the slower sliding-window path, which recovers after n
values, computes the series again. A finite last value proves no NaN entered the sums.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from features import ta


def _gap(nan: np.ndarray) -> bool | None:
    """Whether a value is missing after the first valid one (leading NaNs are fine for
    TA-Lib); None when every value is missing."""
    first = nan.argmin()
    return None if nan[first] else bool(nan[first:].any())


def _sliding(x: np.ndarray, n: int, fn) -> np.ndarray:
    out = np.full(len(x), np.nan)
    if len(x) >= n:
        out[n - 1:] = fn(sliding_window_view(x, n), axis=-1)
    return out


def _running(x: np.ndarray, n: int, ta_fn, np_fn) -> np.ndarray:
    """A running-sum statistic: TA-Lib, or the sliding window when a NaN poisoned it."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    if len(x) < n:
        return np.full(len(x), np.nan)
    try:
        out = ta_fn(x, n)
    except Exception:  # TA-Lib refuses a series that is NaN throughout
        return np.full(len(x), np.nan)
    return _sliding(x, n, np_fn) if math.isnan(out[-1]) else out


def _extreme(x: np.ndarray, n: int, ta_fn, np_fn) -> np.ndarray:
    """MAX and MIN compare rather than sum: a NaN inside is looked for, not inferred."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    gap = _gap(np.isnan(x))
    if len(x) < n or gap is None:
        return np.full(len(x), np.nan)
    return _sliding(x, n, np_fn) if gap else ta_fn(x, n)


def mean(x: np.ndarray, n: int) -> np.ndarray:
    return _running(x, n, ta.SMA, np.mean)


def total(x: np.ndarray, n: int) -> np.ndarray:
    return _running(x, n, ta.SUM, np.sum)


def std(x: np.ndarray, n: int) -> np.ndarray:
    """Sample standard deviation (ddof=1)."""
    sample = lambda v, k: ta.STDDEV(v, k, 1.0) * math.sqrt(k / (k - 1))
    return _running(x, n, sample, lambda v, axis: np.std(v, axis=axis, ddof=1))


def maximum(x: np.ndarray, n: int) -> np.ndarray:
    return _extreme(x, n, ta.MAX, np.max)


def minimum(x: np.ndarray, n: int) -> np.ndarray:
    return _extreme(x, n, ta.MIN, np.min)


def diff(x: np.ndarray) -> np.ndarray:
    """x[t] - x[t-1], NaN at t=0 (np.diff with prepend costs four times as much)."""
    out = np.empty(len(x))
    out[:1] = np.nan
    np.subtract(x[1:], x[:-1], out=out[1:])
    return out


def lag(x: np.ndarray, k: int) -> np.ndarray:
    out = np.empty(len(x))
    out[:k] = np.nan
    out[k:] = x[:max(len(x) - k, 0)]
    return out


def pct_rank(x: np.ndarray, n: int) -> np.ndarray:
    """Share of the last n values at or below the current one; NaN if any is missing."""
    def rank(v, axis):
        r = (v <= v[..., -1:]).sum(axis=axis) / n
        return np.where(np.isnan(v).any(axis=axis), np.nan, r)
    return _sliding(x, n, rank)


def corr(y: np.ndarray, x: np.ndarray, n: int) -> np.ndarray:
    """Rolling Pearson correlation of y with x."""
    y, x = np.ascontiguousarray(y, np.float64), np.ascontiguousarray(x, np.float64)
    if len(y) < n:
        return np.full(len(y), np.nan)
    # TA-Lib's CORREL turns a NaN in its sums into 0.0, so gaps are looked for
    with np.errstate(invalid="ignore"):
        gap = _gap(np.isnan(y + x))
    if gap is None:
        return np.full(len(y), np.nan)
    return _sliding_corr(y, x, n) if gap else ta.CORREL(y, x, n)


def beta(y: np.ndarray, x: np.ndarray, n: int) -> np.ndarray:
    """Rolling least-squares slope of y on x."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return corr(y, x, n) * std(y, n) / std(x, n)


def autocorr(x: np.ndarray, n: int) -> np.ndarray:
    """Lag-1 autocorrelation over the last n values."""
    return np.concatenate([[np.nan], corr(x[1:], x[:-1], n - 1)])


def _sliding_corr(y: np.ndarray, x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(y), np.nan)
    wy, wx = sliding_window_view(y, n), sliding_window_view(x, n)
    dy = wy - wy.mean(axis=-1, keepdims=True)
    dx = wx - wx.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[n - 1:] = (dy * dx).sum(axis=-1) / np.sqrt((dx * dx).sum(axis=-1) * (dy * dy).sum(axis=-1))
    return out
