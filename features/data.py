"""Reading the market-data folder. Files are found by name prefix, so the same code
runs on a newer folder of the same layout (see ../shared/data/README.md).

Everything comes out in one long format, `date, symbol, open, high, low, close,
volume`, the shape a bar has on `market.ticks`: the traded panel and the cross-asset
series (VIX family, put/call ratios, fed funds) alike. Series with a single value per
day carry it in all four prices and a volume of 0.
"""
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.calendar import is_session

COLUMNS = ["date", "symbol", "open", "high", "low", "close", "volume"]


class DataNotFound(FileNotFoundError):
    pass


def find(data_dir: Path | str, prefix: str) -> Path:
    """The newest file under `data_dir` whose name starts with `prefix`. Linked folders
    are followed (pathlib's rglob does not follow them before Python 3.13), so a data
    folder assembled from links finds its files; each real folder is read once."""
    matches, seen = [], set()
    for root, dirs, files in os.walk(data_dir, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:  # a link back up the tree
            dirs[:] = []
            continue
        seen.add(real)
        matches += [Path(root) / f for f in files if f.startswith(prefix)]
    matches.sort()
    if not matches:
        raise DataNotFound(f"no file starting with {prefix!r} under {data_dir}")
    return matches[-1]


def load_panel(data_dir: Path | str, symbols: list[str] | None = None,
               start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Daily OHLCV of the traded symbols, long format, sorted by symbol then date."""
    df = pd.read_csv(find(data_dir, "us_daily_ohlcv_adjusted_"), parse_dates=["date"])
    # VIX comes from CBOE's own file (load_context); the panel's copy is a Yahoo pull.
    df = df[df["symbol"] != "VIX"]
    return select(df, symbols, start, end)


def load_context(data_dir: Path | str) -> pd.DataFrame:
    """Cross-asset series as bars on NYSE sessions only (CBOE publishes on some holidays)."""
    frames = [
        _ohlc(data_dir, "vix_daily_cboe_", "VIX"),
        _ohlc(data_dir, "VIX3M_History", "VIX3M"),
        _ohlc(data_dir, "VIX9D_History", "VIX9D"),
        # Early VVIX rows hold glitches (2006-03-15 = 15.71): the README says start in 2007.
        _single(data_dir, "VVIX_History", "VVIX", "DATE", "VVIX", start="2007-01-01"),
        _single(data_dir, "SKEW_History", "SKEW", "DATE", "SKEW"),
        _single(data_dir, "put_call_ratios_", "PCR_TOTAL", "Fecha", "TOTAL_PUT_CALL_RATIO"),
        _single(data_dir, "put_call_ratios_", "PCR_EQUITY", "Fecha", "EQUITY_PUT_CALL_RATIO"),
        _single(data_dir, "fred_DFF_", "DFF", "date", "value"),
    ]
    frames.append(load_options(data_dir, frames[-1]))
    df = pd.concat(frames, ignore_index=True)
    days = df["date"].values.astype("datetime64[D]")
    df = df[is_session(days) & (df["close"] > 0)]
    return df.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)


def load_options(data_dir: Path | str, rate: pd.DataFrame) -> pd.DataFrame:
    """Implied-volatility series from the option chains (see features/options.py)."""
    from features.options import summarize
    chains = pd.read_csv(find(data_dir, "lean_option_chains_"), parse_dates=["date", "expiry"])
    return summarize(chains, load_panel(data_dir), rate)[COLUMNS]


@dataclass(frozen=True)
class MarketData:
    panel: pd.DataFrame  # traded symbols, see load_panel
    context: pd.DataFrame  # cross-asset series, see load_context

    def all_bars(self) -> pd.DataFrame:
        """Everything a live feed would publish on market.ticks."""
        return pd.concat([self.panel, self.context], ignore_index=True)

    def until(self, day: str) -> "MarketData":
        """What was known at the close of `day`."""
        cut = pd.Timestamp(day)
        return MarketData(panel=self.panel[self.panel["date"] <= cut], context=self.context[self.context["date"] <= cut])


def with_bars(data: MarketData, bars: pd.DataFrame) -> MarketData:
    """The data with the bars (COLUMNS) that come after each series' last day in it: how
    training sees the days that reached market.ticks but no file yet. Bars of a day a
    series already holds, and of symbols the data does not know, are left out."""
    frames = {}
    for name, df in (("panel", data.panel), ("context", data.context)):
        last = df.groupby("symbol")["date"].max()
        new = bars[bars["symbol"].isin(last.index)]
        new = new[pd.to_datetime(new["date"]) > new["symbol"].map(last)]
        if new.empty:
            frames[name] = df
            continue
        new = new.assign(date=pd.to_datetime(new["date"]).astype(df["date"].dtype))
        frames[name] = (pd.concat([df, new[COLUMNS]], ignore_index=True)
                        .drop_duplicates(["symbol", "date"], keep="last")
                        .sort_values(["symbol", "date"], kind="stable").reset_index(drop=True))
    return MarketData(**frames)


def load(data_dir: Path | str) -> MarketData:
    return MarketData(panel=load_panel(data_dir), context=load_context(data_dir))


def select(df: pd.DataFrame, symbols: list[str] | None = None, start: str | None = None,
           end: str | None = None) -> pd.DataFrame:
    """Rows of a long frame for some symbols and dates, sorted by symbol then date."""
    if symbols:
        unknown = sorted(set(symbols) - set(df["symbol"].unique()))
        if unknown:
            raise DataNotFound(f"symbols not in the data: {unknown}")
        df = df[df["symbol"].isin(symbols)]
    if start:
        df = df[df["date"] >= pd.Timestamp(start)]
    if end:
        df = df[df["date"] <= pd.Timestamp(end)]
    return df.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)[COLUMNS]


def _read(data_dir, prefix: str, date_col: str) -> pd.DataFrame:
    df = pd.read_csv(find(data_dir, prefix))
    df[date_col] = pd.to_datetime(df[date_col], format="mixed")
    return df.dropna(subset=[date_col])


def _ohlc(data_dir, prefix: str, symbol: str) -> pd.DataFrame:
    df = _read(data_dir, prefix, "DATE").dropna(subset=["CLOSE"])
    out = pd.DataFrame({"date": df["DATE"], "symbol": symbol, "open": df["OPEN"],
                        "high": df["HIGH"], "low": df["LOW"], "close": df["CLOSE"], "volume": 0.0})
    # Before mid-2004 CBOE's VIX file repeats the close in every price; where a row's
    # range does not bracket its close, fall back to the close.
    bad = ~((out["low"] <= out["close"]) & (out["close"] <= out["high"]) & (out["low"] > 0))
    out.loc[bad, ["open", "high", "low"]] = np.repeat(out.loc[bad, ["close"]].values, 3, axis=1)
    return out


def _single(data_dir, prefix: str, symbol: str, date_col: str, value_col: str,
            start: str | None = None) -> pd.DataFrame:
    df = _read(data_dir, prefix, date_col).dropna(subset=[value_col])
    if start:
        df = df[df[date_col] >= pd.Timestamp(start)]
    v = df[value_col].astype(float)
    return pd.DataFrame({"date": df[date_col], "symbol": symbol, "open": v, "high": v, "low": v,
                         "close": v, "volume": 0.0})
