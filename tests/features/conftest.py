import pandas as pd
import pytest

from features.cross_asset import CONTEXT_SYMBOLS, Context
from features.data import load_context, load_panel

SYMBOLS = ["SPY", "AAPL", "JPM", "TLT", "XOM", "GLD", "GOOGL"]


@pytest.fixture(scope="session")
def bars(data_dir) -> pd.DataFrame:
    """Real bars of target symbols and of every context series, 2005-2023."""
    panel = load_panel(data_dir, sorted(set(SYMBOLS) | {s for s in CONTEXT_SYMBOLS
                                                        if s in {"SPY", "TLT", "GLD", "UUP", "XLF", "XLE", "XLK"}}),
                       start="2005-01-01")
    ctx = load_context(data_dir)
    return pd.concat([panel, ctx[ctx["date"] >= "2005-01-01"]], ignore_index=True)


@pytest.fixture(scope="session")
def context(bars) -> Context:
    return Context.from_bars(bars)
