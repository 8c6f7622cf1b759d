"""Option chains in the data folder, one underlying and day at a time: the quotes
(expiry, strike, right 'C'/'P', bid, ask) and the underlying's unadjusted price.

- `spx_option_quotes_2011...`: SPX on 2011-01-24 with bids and asks.
- `lean_option_chains_eod...`: end-of-day closes (QuantConnect's samples), so a quote's
  bid and ask are both its close; contracts with no close, and days with no underlying
  price (SPX in 2015), are left out.
"""
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from features.data import DataNotFound, find

QUOTES = ["expiry", "strike", "right", "bid", "ask"]


@dataclass(frozen=True)
class ChainDay:
    symbol: str
    as_of: date
    spot: float
    quotes: pd.DataFrame  # QUOTES, expiries after as_of


def _spx(data_dir) -> list[ChainDay]:
    d = pd.read_csv(find(data_dir, "spx_option_quotes_2011"))
    quotes = pd.DataFrame({"expiry": pd.to_datetime(d["dtExpiry"]).dt.date, "strike": d["Strike"].astype(float),
                           "right": d["Type"], "bid": d["PBid"], "ask": d["PAsk"]})
    as_of = pd.to_datetime(d["dtTrade"].iloc[0]).date()
    return [ChainDay("SPX", as_of, float(d["Spot"].iloc[0]), quotes)]


def _lean(data_dir) -> list[ChainDay]:
    d = pd.read_csv(find(data_dir, "lean_option_chains_eod"))
    d = d[(d["close"] > 0) & (d["underlying_close"] > 0)]
    out = []
    for (symbol, day), g in d.groupby(["underlying", "date"], sort=True):
        quotes = pd.DataFrame({"expiry": pd.to_datetime(g["expiry"].astype(str)).dt.date,
                               "strike": g["strike"].astype(float), "right": g["right"].str.upper().str[0],
                               "bid": g["close"], "ask": g["close"]})
        out.append(ChainDay(symbol.upper(), date.fromisoformat(day), float(g["underlying_close"].iloc[0]), quotes))
    return out


def chain_days(data_dir: Path | str, symbols: list[str] | None = None) -> list[ChainDay]:
    """Every chain in the folder (of `symbols`), by day; sources the folder lacks are skipped."""
    days = []
    for source in (_spx, _lean):
        try:
            days += source(data_dir)
        except DataNotFound:
            continue
    days = [ChainDay(c.symbol, c.as_of, c.spot, c.quotes[c.quotes["expiry"] > c.as_of].reset_index(drop=True))
            for c in days if symbols is None or c.symbol in symbols]
    return sorted((c for c in days if len(c.quotes)), key=lambda c: (c.as_of, c.symbol))
