"""Tables, on RocksDB and backed by changelog topics.

`symbol_to_bars` is co-partitioned with the input topics (same key, same partition
count), so a request finds its symbol's window on the worker that owns its partition.
The cross-asset series every forecast needs (VIX, SPY, sector ETFs, rates, and the
option-implied series of each underlying) are also kept in a global table, which every
worker holds in full.
"""
from features.cross_asset import CONTEXT_SYMBOLS, Context
from features.options import option_series
from features.window import BarWindow
from stream.app import app, settings

symbol_to_bars = app.Table(
    "symbol_to_bars",
    partitions=settings.stream.partitions,
    key_type=bytes,
    value_type=bytes,  # a BarWindow, see features/window.py
)

context_to_bars = app.GlobalTable(
    "context_to_bars",
    partitions=settings.stream.partitions,
    key_type=bytes,
    value_type=bytes,
)


def window_of(symbol: str) -> BarWindow | None:
    raw = symbol_to_bars.get(symbol.encode())
    return BarWindow.from_bytes(raw) if raw else None


def current_context(symbol: str) -> Context:
    """The market-wide series, and the option-implied series of `symbol` if any."""
    windows = {}
    for name in (*CONTEXT_SYMBOLS, *option_series(symbol)):
        raw = context_to_bars.get(name.encode())
        if raw:
            windows[name] = BarWindow.from_bytes(raw)
    return Context.from_windows(windows)
