"""Tables, on RocksDB and backed by changelog topics.

`symbol_to_bars` is co-partitioned with the by-symbol topics: a symbol's window lives in
the partition that murmur2 of its name picks (`stream.keys.home_partition`), on the
worker that owns that partition, whatever partition its bars and requests first
arrived on. The cross-asset series every forecast needs (VIX, SPY, sector ETFs, rates,
and the option-implied series of each underlying) are also kept in a global table,
which every worker holds in full, as are the symbols' regimes and option surfaces.

Faust's RocksDB store files a write under the partition of the event being processed,
and a batch holds events of several partitions, so writes name their event
(`as_event`). Reads go by the key (`use_partitioner`), not by the current event.
"""
import contextlib
import time
import weakref

import faust
import orjson
from faust.streams import _current_event  # the store reads the current event from it

from features.cross_asset import CONTEXT_SYMBOLS, Context
from features.options import option_series
from features.window import BarWindow
from inference.surface import Surface, from_info
from schemas import RegimeInfo, RegimeState, SurfaceInfo
from stream.app import app, settings

# The tables hold a few MB (55 windows of 512 bars); Faust's RocksDB defaults (a 2 GiB
# block cache, 3 x 64 MiB write buffers per partition) are sized for far larger state.
def _store_options() -> dict:
    return {"write_buffer_size": 4 << 20, "max_write_buffer_number": 2,
            "block_cache_size": 8 << 20, "block_cache_compressed_size": 1 << 20}


def _table(kind, name: str, **options):
    """A table of bytes by bytes, with the small RocksDB settings above. (How the global
    tables reach every worker: stream/recovery.py, `Assignor`.)"""
    return kind(name, partitions=settings.stream.partitions, key_type=bytes, value_type=bytes,
                options=_store_options(), **options)


symbol_to_bars = _table(app.Table, "symbol_to_bars", use_partitioner=True)  # BarWindows, features/window.py
context_to_bars = _table(app.GlobalTable, "context_to_bars")
# Each traded symbol's regime state and the filter's state probabilities behind it
# (regime_states below): written by the worker that owns the symbol as its bars arrive
# (stream/regimes.py), read by every worker, so that any of them answers
# GET /market/regime/{symbol} and forecasts carry the same regimes.
symbol_regimes = _table(app.GlobalTable, "symbol_regimes")
# Each underlying's latest option surface (schemas.SurfaceInfo as JSON), fitted by
# whichever worker consumed its chain (stream/agents/options.py), read by every worker.
option_surfaces = _table(app.GlobalTable, "option_surfaces")
TABLES = (symbol_to_bars, context_to_bars, symbol_regimes, option_surfaces)


def regime_states(symbol: str) -> tuple[RegimeState, list[float]] | None:
    """A symbol's regime state and the filter's state probabilities behind it."""
    raw = symbol_regimes.get(symbol.encode())
    if not raw:
        return None
    held = orjson.loads(raw)
    return RegimeState.model_validate(held["state"]), held["states"]


def regime_of(symbol: str) -> RegimeInfo | None:
    held = regime_states(symbol)
    return None if held is None else held[0].regime


class Surfaces:
    """Decoded option surfaces, decoded again only when the stored bytes change: the same
    Surface object comes back while a symbol's surface is unchanged (see inference.service)."""

    def __init__(self, table):
        self.table = table
        self._decoded: dict[bytes, tuple[bytes, SurfaceInfo, Surface]] = {}

    def info(self, symbol: str) -> SurfaceInfo | None:
        held = self._held(symbol)
        return None if held is None else held[1]

    def of(self, symbol: str) -> Surface | None:
        held = self._held(symbol)
        return None if held is None else held[2]

    def _held(self, symbol: str) -> tuple[bytes, SurfaceInfo, Surface] | None:
        key = symbol.encode()
        raw = self.table.get(key)
        if not raw:
            return None
        held = self._decoded.get(key)
        if held is None or held[0] != raw:
            info = SurfaceInfo.model_validate_json(raw)
            held = self._decoded[key] = (raw, info, from_info(info))
        return held


@contextlib.contextmanager
def as_event(event: faust.types.EventT):
    """Table writes inside this block are filed under `event`'s partition."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


class Windows:
    """Decoded windows of a table, decoded again only when the stored bytes change, so
    that the same object comes back while a window is unchanged (see inference.service)."""

    def __init__(self, table):
        self.table = table
        self._decoded: dict[bytes, tuple[bytes, BarWindow]] = {}
        self.generation = 0  # counts this worker's writes

    def get(self, symbol: str) -> BarWindow | None:
        key = symbol.encode()
        raw = self.table.get(key)
        if not raw:
            return None
        held = self._decoded.get(key)
        if held is not None and held[0] == raw:
            return held[1]
        window = BarWindow.from_bytes(raw)
        self._decoded[key] = (raw, window)
        return window

    def symbols(self) -> list[str]:
        """The symbols whose windows this worker holds (its partitions of the table)."""
        return [key.decode() for key in self.table.keys()]

    def put(self, window: BarWindow) -> bytes:
        key, raw = window.symbol.encode(), window.to_bytes()
        self.table[key] = raw
        self._decoded[key] = (raw, window)
        self.generation += 1
        return raw


class Contexts:
    """Each symbol's context, rebuilt only when one of its series' windows changes.

    Reading two dozen series from the global table for every request cost more than the
    rest of serving together. They are read again when this worker has written one of
    them, and otherwise at most every `refresh_s`, which is how long a series written
    by another worker can take to reach this one's forecasts.
    """

    def __init__(self, windows: Windows, refresh_s: float):
        self.windows = windows
        self.refresh_s = refresh_s
        self._built: dict[str, tuple[list[BarWindow | None], Context]] = {}
        self._read: dict[str, tuple[int, float]] = {}  # symbol -> (generation, time) of the last read

    def of(self, symbol: str) -> Context:
        """The market-wide series, and the option-implied series of `symbol` if any."""
        held = self._built.get(symbol)
        now = time.monotonic()
        gen, at = self._read.get(symbol, (-1, 0.0))
        if held is not None and gen == self.windows.generation and now - at < self.refresh_s:
            return held[1]
        self._read[symbol] = (self.windows.generation, now)
        names = (*CONTEXT_SYMBOLS, *option_series(symbol))
        windows = [self.windows.get(n) for n in names]
        # By identity: held windows stay referenced here, so none can be freed and replaced
        # by a new object at the same address.
        if held is not None and all(a is b for a, b in zip(held[0], windows)):
            return held[1]
        context = Context.from_windows({n: w for n, w in zip(names, windows) if w is not None})
        self._built[symbol] = (windows, context)
        return context


windows = Windows(symbol_to_bars)
context_windows = Windows(context_to_bars)
contexts = Contexts(context_windows, settings.stream.context_refresh_s)
surfaces = Surfaces(option_surfaces)
