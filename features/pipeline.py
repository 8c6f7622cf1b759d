"""The feature pipeline: one function per symbol, used for a whole panel and for a window.

`build` runs `symbol_matrix` over each symbol's full history; `window` runs the same
function over the bars a stream keeps and takes the last row. Values are raw (not
scaled) and NaN where undefined: not enough history yet, a series that does not exist
at that date (VIX9D before 2011), a zero range or a zero volume. See scaling.py for
how NaN becomes a masked zero before the model.
"""
import numpy as np
import pandas as pd

from features import calendar, cross_asset, microstructure, options, technical, trend, volatility
from features.catalog import NAMES
from features.cross_asset import Context
from features.window import BarWindow

LOOKBACK = 253  # the longest window any feature uses (252-day return), plus one


def symbol_features(w: BarWindow, ctx: Context) -> dict[str, np.ndarray]:
    """Every feature of one symbol's bars, each (T,), in catalog order."""
    vol = volatility.compute(w)
    out = (technical.compute(w) | trend.compute(w) | trend.regime(w, vol["rv_21"]) | vol
           | microstructure.compute(w) | cross_asset.compute(w, ctx)
           | options.compute(w, ctx, vol["rv_21"]) | calendar.compute(w.dates))
    assert set(out) == set(NAMES), set(out) ^ set(NAMES)
    return {name: out[name] for name in NAMES}


def symbol_matrix(w: BarWindow, ctx: Context) -> np.ndarray:
    """(T, F) features of one symbol, non-finite values as NaN."""
    m = np.column_stack(list(symbol_features(w, ctx).values())).astype(np.float64)
    m[~np.isfinite(m)] = np.nan
    return m


def window(w: BarWindow, ctx: Context) -> np.ndarray:
    """(F,) the features at the last bar of a streaming window."""
    row = np.array([v[-1] for v in symbol_features(w, ctx).values()], dtype=np.float64)
    row[~np.isfinite(row)] = np.nan
    return row


def build(bars: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Features for a long panel (date, symbol, open..volume): one row per (symbol, date),
    with columns date, symbol, close and every feature of the catalog."""
    frames = []
    for symbol, g in bars.groupby("symbol", sort=True):
        w = to_window(symbol, g)
        frame = pd.DataFrame(symbol_matrix(w, ctx), columns=list(NAMES), index=g.index)
        frame.insert(0, "close", w.close)
        frame.insert(0, "symbol", symbol)
        frame.insert(0, "date", g["date"].values)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def to_window(symbol: str, g: pd.DataFrame) -> BarWindow:
    """One symbol's rows of a long panel (sorted by date) as arrays."""
    return BarWindow(symbol, g["date"].values.astype("datetime64[D]"),
                     *(g[c].values.astype(np.float64) for c in ("open", "high", "low", "close", "volume")))
