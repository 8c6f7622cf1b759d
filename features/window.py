"""The rolling window of one symbol's recent bars: what the stream keeps per symbol.

The window is a value object so that the streaming table stores exactly what the
batch pipeline reads: plain arrays of dates and OHLCV, oldest first.
"""
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import orjson

from features import rolling
from schemas import Bar

_EPOCH = np.datetime64("1970-01-01", "D")
_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class BarWindow:
    symbol: str
    dates: np.ndarray  # (T,) datetime64[D], strictly increasing
    open: np.ndarray  # (T,) float64
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.dates)

    # Every feature group starts from log prices; a window computes them once.
    @cached_property
    def log_close(self) -> np.ndarray:
        return np.log(self.close)

    @cached_property
    def returns(self) -> np.ndarray:
        """(T,) log return into each bar, NaN at the first."""
        return rolling.diff(self.log_close)

    @property
    def last_date(self) -> date:
        return self.dates[-1].astype(object)

    def to_bytes(self) -> bytes:
        days = (self.dates - _EPOCH).astype(np.int64)
        payload = {"symbol": self.symbol, "days": days, **{c: getattr(self, c) for c in _COLUMNS}}
        return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)

    @classmethod
    def from_bytes(cls, raw: bytes) -> "BarWindow":
        d = orjson.loads(raw)
        dates = _EPOCH + np.asarray(d["days"], dtype=np.int64).astype("timedelta64[D]")
        return cls(d["symbol"], dates, *(np.asarray(d[c], dtype=np.float64) for c in _COLUMNS))

    @classmethod
    def empty(cls, symbol: str) -> "BarWindow":
        return cls(symbol, np.array([], dtype="datetime64[D]"), *(np.array([]) for _ in _COLUMNS))


def append_bar(window: BarWindow | None, bar: Bar, max_len: int) -> BarWindow:
    """The window with `bar` added in date order; a bar for a date already held replaces it.

    Bars can arrive late or twice (replays, corrections), so position is found by
    date rather than assumed to be the end. A bar older than a full window is dropped.
    """
    window = window or BarWindow.empty(bar.symbol)
    day = np.datetime64(bar.day, "D")
    i = int(np.searchsorted(window.dates, day))
    replace = i < len(window) and window.dates[i] == day
    if not replace and len(window) >= max_len and i == 0:
        return window
    values = (bar.open, bar.high, bar.low, bar.close, bar.volume)
    if replace:
        arrays = [window.dates.copy()] + [getattr(window, c).copy() for c in _COLUMNS]
        for a, v in zip(arrays[1:], values):
            a[i] = v
    else:
        arrays = [np.insert(window.dates, i, day)] + [
            np.insert(getattr(window, c), i, v) for c, v in zip(_COLUMNS, values)
        ]
    return BarWindow(bar.symbol, *(a[-max_len:] for a in arrays))
