"""Cross-asset context: volatility indices, options sentiment, rates, the market and
the symbol's sector, aligned to the symbol's dates with no look-ahead.

A context value at day t is the series' last value on or before t, and none at all if
that value is more than MAX_STALE_DAYS old (a feed that stopped must not look fresh).
The fed funds rate for day t is published the next morning, so it enters one session late.
"""
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from features import rolling
from features.options import is_option_series
from features.window import BarWindow

MAX_STALE_DAYS = 10
_STALE = np.timedelta64(MAX_STALE_DAYS, "D")
MARKET = "SPY"
MACRO = ("TLT", "GLD", "UUP")
SECTORS = ("XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY")
VOLATILITY = ("VIX", "VIX9D", "VIX3M", "VVIX", "SKEW")
SENTIMENT = ("PCR_TOTAL", "PCR_EQUITY", "DFF")
CONTEXT_SYMBOLS = (MARKET, *MACRO, *SECTORS, *VOLATILITY, *SENTIMENT)

# Stocks of the panel by GICS sector ETF; those without one in the panel (communication
# services) are measured against the market.
SECTOR_OF = {
    **dict.fromkeys(("AAPL", "MSFT", "NVDA", "IBM", "CSCO", "ORCL", "GOOGL", "META"), "XLK"),
    **dict.fromkeys(("JPM", "BAC", "C", "GS", "WFC"), "XLF"),
    **dict.fromkeys(("XOM", "CVX"), "XLE"),
    **dict.fromkeys(("JNJ", "PFE", "MRK", "UNH"), "XLV"),
    **dict.fromkeys(("PG", "KO", "PEP", "WMT"), "XLP"),
    **dict.fromkeys(("AMZN", "TSLA", "HD", "MCD", "DIS"), "XLY"),
    **dict.fromkeys(("GE", "BA", "CAT"), "XLI"),
}


def is_context(symbol: str) -> bool:
    """A series forecasts read beside a symbol's own bars: market-wide or option-implied."""
    return symbol in CONTEXT_SYMBOLS or is_option_series(symbol)


@dataclass(frozen=True)
class Context:
    series: Mapping[str, tuple[np.ndarray, np.ndarray]]  # name -> (days D, close), ascending

    @classmethod
    def from_bars(cls, bars: pd.DataFrame) -> "Context":
        """From long bars (date, symbol, close, ...) holding any context series."""
        series = {}
        # asked once per symbol: asked once per row, it took 2 s of each load of the 55-symbol panel
        context = [sym for sym in bars["symbol"].unique() if is_context(sym)]
        for sym, g in bars[bars["symbol"].isin(context)].groupby("symbol"):
            g = g.sort_values("date")
            series[sym] = (g["date"].values.astype("datetime64[D]"), g["close"].values.astype(float))
        return cls(series)

    @classmethod
    def from_windows(cls, windows: Mapping[str, BarWindow]) -> "Context":
        return cls({s: (w.dates, w.close) for s, w in windows.items() if is_context(s)})

    @cached_property
    def _series_digest(self) -> bytes:
        h = hashlib.blake2b(digest_size=16)
        for name in sorted(self.series):
            d, v = self.series[name]
            h.update(name.encode())
            h.update(np.ascontiguousarray(d).tobytes())
            h.update(np.ascontiguousarray(v).tobytes())
        return h.digest()

    def digest(self, window: bytes) -> str:
        """Names a forecast's inputs: changes whenever the window's bytes or any value of
        any series does. The series' part is computed once per context."""
        return hashlib.blake2b(window + self._series_digest, digest_size=16).hexdigest()

    def until(self, day: np.datetime64) -> "Context":
        """The context as it stood at the close of `day`."""
        return Context({s: (d[d <= day], v[d <= day]) for s, (d, v) in self.series.items()})

    def aligned(self, name: str, days: np.ndarray) -> np.ndarray:
        """(T,) the series' value as known at each of `days`; NaN where unknown or stale."""
        if name not in self.series or len(self.series[name][0]) == 0:
            return np.full(len(days), np.nan)
        d, v = self.series[name]
        n = len(days)
        # The common case, a series on the same sessions as the symbol, needs no search.
        if len(d) >= n and n and d[-1] == days[-1] and d[len(d) - n:].tobytes() == days.tobytes():
            return v[len(v) - n:].astype(np.float64, copy=True)
        i = np.searchsorted(d, days, side="right") - 1
        known = i >= 0
        i = np.where(known, i, 0)
        out = v[i]  # a copy: fancy indexing never aliases the series
        out[~known | (days - d[i] > _STALE)] = np.nan
        return out


def compute(w: BarWindow, ctx: Context) -> dict[str, np.ndarray]:
    days = w.dates
    get = lambda name: ctx.aligned(name, days)
    vix, vix9d, vix3m = get("VIX"), get("VIX9D"), get("VIX3M")
    dff = rolling.lag(get("DFF"), 1)
    rm = rolling.diff(np.log(get(MARKET)))
    ret21 = lambda logx: logx - rolling.lag(logx, 21)
    benchmark = get(SECTOR_OF.get(w.symbol, MARKET))
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "vix_level": vix / 100,
            "vix_change_5": (logvix := np.log(vix)) - rolling.lag(logvix, 5),
            "vix_term_9d": vix9d / vix,
            "vix_term_3m": vix / vix3m,
            "vvix": get("VVIX") / 100,
            "skew": get("SKEW") / 100 - 1,
            "pcr_total": get("PCR_TOTAL"),
            "pcr_equity": get("PCR_EQUITY"),
            "fed_funds": dff / 100,
            "fed_funds_change_63": (dff - rolling.lag(dff, 63)) / 100,
            "corr_spy_63": rolling.corr(w.returns, rm, 63),
            "beta_spy_63": rolling.beta(w.returns, rm, 63),
            "sector_rel_21": ret21(w.log_close) - ret21(np.log(benchmark)),
            **{f"{m.lower()}_ret_21": ret21(np.log(get(m))) for m in MACRO},
        }
