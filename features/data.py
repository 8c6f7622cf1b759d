"""Reading the market-data folder. Files are found by name prefix, so the same code
runs on a newer folder of the same layout (see ../shared/data/README.md)."""
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


class DataNotFound(FileNotFoundError):
    pass


def find(data_dir: Path | str, prefix: str) -> Path:
    """The newest file under `data_dir` whose name starts with `prefix`."""
    matches = sorted(Path(data_dir).rglob(f"{prefix}*"))
    if not matches:
        raise DataNotFound(f"no file starting with {prefix!r} under {data_dir}")
    return matches[-1]


def load_panel(data_dir: Path | str, symbols: list[str] | None = None,
               start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Daily OHLCV, long format: date, symbol, open, high, low, close, volume; sorted."""
    df = pd.read_csv(find(data_dir, "us_daily_ohlcv_adjusted_"), parse_dates=["date"])
    if symbols:
        unknown = sorted(set(symbols) - set(df["symbol"].unique()))
        if unknown:
            raise DataNotFound(f"symbols not in the panel: {unknown}")
        df = df[df["symbol"].isin(symbols)]
    if start:
        df = df[df["date"] >= pd.Timestamp(start)]
    if end:
        df = df[df["date"] <= pd.Timestamp(end)]
    return df.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class MarketData:
    panel: pd.DataFrame  # long OHLCV panel, see load_panel


def load(data_dir: Path | str) -> MarketData:
    return MarketData(panel=load_panel(data_dir))
