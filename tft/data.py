"""From bars to model inputs: feature matrices per symbol, targets, and batches.

Backtests and the streaming service go through `make_inputs`, which cuts an encoder
window ending at day t from a symbol's feature matrix; training gathers the same
windows from a `Panel` built once. A model sees exactly the same numbers whichever of
them asks (tests/tft/test_data.py).
"""
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import pandas as pd
import torch

from features import calendar
from features.catalog import KNOWN, NAMES, OBSERVED
from features.cross_asset import Context
from features.data import MarketData
from features.pipeline import LOOKBACK, symbol_matrix, to_window
from features.scaling import Scaler
from features.window import BarWindow
from tft.model import TFTInputs

ETFS = frozenset("SPY QQQ DIA IWM TLT HYG GLD SLV USO UUP XLE XLF XLI XLK XLP XLU XLV XLY".split())
INDICES = frozenset({"GSPC", "IXIC", "VIX"})
ASSET_CLASSES = ("unknown", "etf", "index", "stock")
_KNOWN = np.array([NAMES.index(n) for n in KNOWN])
_RV = (NAMES.index("rv_63"), NAMES.index("rv_21"))


@dataclass(frozen=True)
class SymbolSeries:
    symbol: str
    dates: np.ndarray  # (T,) datetime64[D]
    close: np.ndarray  # (T,)
    features: np.ndarray  # (T, F) raw, in catalog order, NaN where missing


@dataclass(frozen=True)
class InputSpec:
    """How data maps onto a trained model's inputs; saved in its artifact."""

    symbols: tuple[str, ...]  # embedding rows 1..n; 0 is any symbol not seen in training
    encoder_length: int
    decoder_length: int
    horizons: tuple[int, ...]
    observed: tuple[str, ...] = OBSERVED  # the past-only features read, a subset of the catalog's when pruned

    @cached_property
    def observed_index(self) -> np.ndarray:
        return np.array([NAMES.index(n) for n in self.observed])

    @property
    def input_names(self) -> tuple[str, ...]:
        """The encoder's variables, in the model's order."""
        return (*self.observed, *KNOWN)

    def static(self, symbol: str) -> tuple[int, int]:
        sid = self.symbols.index(symbol) + 1 if symbol in self.symbols else 0
        return sid, ASSET_CLASSES.index(asset_class(symbol))

    @property
    def min_history(self) -> int:
        """Bars a series needs before its first forecast: full features over the encoder."""
        return LOOKBACK + self.encoder_length - 1


def asset_class(symbol: str) -> str:
    return "etf" if symbol in ETFS else "index" if symbol in INDICES else "stock"


def series_from_window(w: BarWindow, ctx: Context) -> SymbolSeries:
    return SymbolSeries(w.symbol, w.dates, w.close, symbol_matrix(w, ctx))


def panel_series(panel: pd.DataFrame, ctx: Context) -> list[SymbolSeries]:
    return [series_from_window(to_window(s, g), ctx) for s, g in panel.groupby("symbol", sort=True)]


def market_series(data: MarketData, end: str | np.datetime64 | None = None,
                  symbols: list[str] | None = None) -> list[SymbolSeries]:
    """The traded symbols' features (or `symbols`'), from data up to `end` only, with the
    cross-asset context cut at the same day."""
    bars = data.all_bars()
    if end is not None:
        bars = bars[bars["date"] <= pd.Timestamp(end)]
    traded = bars[bars["symbol"].isin(symbols or set(data.panel["symbol"]))]
    return panel_series(traded, Context.from_bars(bars))


def daily_vol(features: np.ndarray) -> np.ndarray:
    """(N,) a typical daily move from features rows (N, F): the 63-day realized vol,
    the 21-day one where that is missing, floored so that a flat series cannot
    divide by zero."""
    rv = np.where(np.isfinite(features[:, _RV[0]]), features[:, _RV[0]], features[:, _RV[1]])
    return np.maximum(np.nan_to_num(rv / np.sqrt(252), nan=0.01), 1e-3)


def horizon_scales(vol: np.ndarray, horizons: tuple[int, ...]) -> np.ndarray:
    """(N, Z) float32: a typical daily move (N,) times sqrt(horizon), the targets' unit."""
    return (vol[:, None] * np.sqrt(np.asarray(horizons, dtype=np.float64))[None, :]).astype(np.float32)


def targets(close: np.ndarray, horizons: tuple[int, ...]) -> np.ndarray:
    """(T, Z) log return from each day to each horizon; NaN past the end."""
    logc = np.log(close)
    out = np.full((len(close), len(horizons)), np.nan)
    for j, h in enumerate(horizons):
        out[:-h, j] = logc[h:] - logc[:-h]
    return out


@cache
def _calendar_rows() -> tuple[np.ndarray, np.ndarray]:
    days = calendar.sessions()
    feats = calendar.compute(days)
    return days, np.column_stack([feats[n] for n in KNOWN]).astype(np.float32)


def known_future(origins: np.ndarray, H: int) -> np.ndarray:
    """(N, H, K) calendar features of the H sessions after each origin day (N,)."""
    days, rows = _calendar_rows()
    i = np.searchsorted(days, origins, side="right")
    if (i + H > len(days)).any():
        raise ValueError(f"the NYSE calendar ends at {days[-1]}; cannot forecast {H} sessions past it")
    return rows[i[:, None] + np.arange(H)[None, :]]


def make_inputs(series: list[SymbolSeries], samples: np.ndarray, spec: InputSpec,
                scaler: Scaler) -> tuple[TFTInputs, np.ndarray]:
    """samples: (N, 2) rows of (series index, day index t), t >= E - 1.
    Returns the batch and (N, Z) scales: daily vol * sqrt(horizon), the unit of the targets."""
    E, H = spec.encoder_length, spec.decoder_length
    windows = np.stack([series[s].features[t - E + 1:t + 1] for s, t in samples])  # (N, E, F)
    values, mask = scaler.transform(windows)
    last = windows[:, -1]  # (N, F)
    origins = np.array([series[s].dates[t] for s, t in samples])
    static = np.array([spec.static(series[s].symbol) for s, _ in samples], dtype=np.int64)
    inputs = TFTInputs(
        static=torch.from_numpy(static),
        observed=torch.from_numpy(values[..., spec.observed_index]),
        observed_mask=torch.from_numpy(mask[..., spec.observed_index]),
        known_past=torch.from_numpy(windows[..., _KNOWN].astype(np.float32)),  # already in [0, 1]
        known_future=torch.from_numpy(known_future(origins, H)),
    )
    return inputs, horizon_scales(daily_vol(last), spec.horizons)


class Panel:
    """Every series' inputs and targets laid end to end, scaled once, so a batch of
    (series, day) samples is gathered by index with no Python loop per sample: what
    `make_inputs` does for a request's few windows, for the thousands of batches of a
    training run. Rows are days; series s starts at row `start[s]`."""

    def __init__(self, series: list[SymbolSeries], spec: InputSpec, scaler: Scaler):
        self.spec = spec
        self.start = np.concatenate([[0], np.cumsum([len(s.dates) for s in series])[:-1]]).astype(np.int64)
        features = np.concatenate([s.features for s in series])  # (R, F)
        values, mask = scaler.transform(features)
        self.values = torch.from_numpy(np.ascontiguousarray(values[:, spec.observed_index]))  # (R, O)
        self.mask = torch.from_numpy(np.ascontiguousarray(mask[:, spec.observed_index]))  # (R, O)
        self.known = torch.from_numpy(features[:, _KNOWN].astype(np.float32))  # (R, K), already in [0, 1]
        self.dates = np.concatenate([s.dates for s in series])  # (R,)
        self.vol = daily_vol(features)  # (R,)
        self.static = np.array([spec.static(s.symbol) for s in series], dtype=np.int64)  # (S, 2)
        self.y = np.concatenate([targets(s.close, spec.horizons) for s in series])  # (R, Z) log returns

    def batch(self, samples: np.ndarray) -> tuple[TFTInputs, torch.Tensor]:
        """samples: (N, 2) rows of (series index, day index t), t >= E - 1. The batch and
        its (N, Z) targets in units of the scales `make_inputs` gives."""
        E, H = self.spec.encoder_length, self.spec.decoder_length
        rows = self.start[samples[:, 0]] + samples[:, 1]  # (N,) each origin's row
        window = torch.from_numpy(rows[:, None] - (E - 1) + np.arange(E))  # (N, E) the encoder's rows
        inputs = TFTInputs(static=torch.from_numpy(self.static[samples[:, 0]]), observed=self.values[window],
                           observed_mask=self.mask[window], known_past=self.known[window],
                           known_future=torch.from_numpy(known_future(self.dates[rows], H)))
        y = self.y[rows] / horizon_scales(self.vol[rows], self.spec.horizons)  # (N, Z) normalised targets
        return inputs, torch.from_numpy(y.astype(np.float32))


def sample_days(series: list[SymbolSeries], spec: InputSpec, start: np.datetime64 | None,
                end: np.datetime64 | None, need_target: bool) -> np.ndarray:
    """(N, 2) every (series, day) with a full encoder window, origins in [start, end],
    and, when `need_target`, the longest horizon's outcome inside the series."""
    rows = []
    for s, ser in enumerate(series):
        t = np.arange(spec.min_history - 1, len(ser.dates))
        if need_target:
            t = t[t + spec.horizons[-1] < len(ser.dates)]
        d = ser.dates[t]
        keep = np.ones(len(t), bool)
        if start is not None:
            keep &= d >= start
        if end is not None:
            keep &= d <= end
        rows.append(np.column_stack([np.full(keep.sum(), s), t[keep]]))
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 2), np.int64)
