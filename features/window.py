"""The rolling window of one symbol's recent bars: what the stream keeps per symbol.

The window is a value object so that the streaming table stores exactly what the
batch pipeline reads: plain arrays of dates and OHLCV, oldest first.

On the wire (the table and its changelog) a window is binary: a small header, then the
six columns as little-endian arrays. Decoding is `np.frombuffer`, no parse and no copy,
which matters because the serving path reads a window for every request batch.
"""
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import struct

import numpy as np

from features import rolling
from schemas import Bar

_EPOCH = np.datetime64("1970-01-01", "D")
_COLUMNS = ("open", "high", "low", "close", "volume")
_MAGIC = b"BW1"
_HEADER = struct.Struct("<3sBI")  # magic, symbol length, bar count


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
        symbol = self.symbol.encode()
        days = (self.dates - _EPOCH).astype("<i8")
        return b"".join((_HEADER.pack(_MAGIC, len(symbol), len(self)), symbol, days.tobytes(),
                         *(np.asarray(getattr(self, c), dtype="<f8").tobytes() for c in _COLUMNS)))

    @classmethod
    def from_bytes(cls, raw: bytes) -> "BarWindow":
        """The arrays are read-only views of `raw`; `append_bar` never writes in place."""
        magic, n_symbol, n = _HEADER.unpack_from(raw)
        if magic != _MAGIC or len(raw) != _HEADER.size + n_symbol + 48 * n:
            raise ValueError("not an encoded BarWindow")
        at = _HEADER.size + n_symbol
        symbol = raw[_HEADER.size:at].decode()
        days = np.frombuffer(raw, dtype="<i8", count=n, offset=at)
        columns = (np.frombuffer(raw, dtype="<f8", count=n, offset=at + 8 * n * (k + 1))
                   for k in range(len(_COLUMNS)))
        return cls(symbol, _EPOCH + days.astype("timedelta64[D]"), *columns)

    def until(self, day: np.datetime64) -> "BarWindow":
        """The bars up to and including `day`."""
        n = int(np.searchsorted(self.dates, day, side="right"))
        return BarWindow(self.symbol, self.dates[:n], *(getattr(self, c)[:n] for c in _COLUMNS))

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


def extend(window: BarWindow | None, bars: list[Bar], max_len: int) -> BarWindow:
    """The window with `bars`, all later than its last and in date order, added at its end
    in one step: what `append_bar` gives one bar at a time, without a copy per bar."""
    window = window or BarWindow.empty(bars[0].symbol)
    days = np.array([np.datetime64(b.day, "D") for b in bars])
    columns = (np.concatenate([getattr(window, c), [getattr(b, c) for b in bars]]) for c in _COLUMNS)
    return BarWindow(window.symbol, np.concatenate([window.dates, days])[-max_len:], *(a[-max_len:] for a in columns))
