"""Trailing-window statistics on numpy arrays.

Each output at t depends on inputs at t-n+1..t only; the first n-1 outputs are NaN.
TA-Lib computes them in C with running sums: a streaming window and the full panel
agree to ~1e-12 relative, far inside the parity test's tolerance. A running sum
never recovers from a NaN inside the series, so a series with a gap (a context feed
that went stale) takes the slower sliding-window path, which recovers after n values.
"""
import numpy as np
import talib
from numpy.lib.stride_tricks import sliding_window_view


def _has_gap(x: np.ndarray) -> bool:
    """A NaN after the first valid value (leading NaNs are fine for TA-Lib)."""
    nan = np.isnan(x)
    return bool(nan.any()) and bool(nan[np.argmin(nan):].any())


def _sliding(x: np.ndarray, n: int, fn) -> np.ndarray:
    out = np.full(len(x), np.nan)
    if len(x) >= n:
        out[n - 1:] = fn(sliding_window_view(x, n), axis=-1)
    return out


def _ta(x: np.ndarray, n: int, ta_fn, np_fn) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float64)
    if len(x) < n or np.isnan(x).all():
        return np.full(len(x), np.nan)
    if _has_gap(x):
        return _sliding(x, n, np_fn)
    return ta_fn(x, n)


def mean(x: np.ndarray, n: int) -> np.ndarray:
    return _ta(x, n, talib.SMA, np.mean)


def total(x: np.ndarray, n: int) -> np.ndarray:
    return _ta(x, n, talib.SUM, np.sum)


def std(x: np.ndarray, n: int) -> np.ndarray:
    """Sample standard deviation (ddof=1)."""
    ta = lambda v, k: talib.STDDEV(v, k, 1.0) * np.sqrt(k / (k - 1))
    return _ta(x, n, ta, lambda v, axis: np.std(v, axis=axis, ddof=1))


def maximum(x: np.ndarray, n: int) -> np.ndarray:
    return _ta(x, n, talib.MAX, np.max)


def minimum(x: np.ndarray, n: int) -> np.ndarray:
    return _ta(x, n, talib.MIN, np.min)


def lag(x: np.ndarray, k: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    if k < len(x):
        out[k:] = x[:len(x) - k]
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
    if _has_gap(y) or _has_gap(x):
        return _sliding_corr(y, x, n)
    return talib.CORREL(y, x, n)


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
