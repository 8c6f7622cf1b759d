"""Small builders shared by tests: bars and windows from real panel rows."""
import asyncio
import time
from pathlib import Path

import pandas as pd

from features.cross_asset import Context
from features.window import BarWindow, append_bar
from schemas import Bar

NO_CONTEXT = Context({})
ROOT = Path(__file__).resolve().parents[1]


def bar(symbol="SPY", ts="2023-12-29", o=100.0, h=101.0, lo=99.0, c=100.5, v=1e6) -> Bar:
    return Bar(symbol=symbol, ts=pd.Timestamp(ts).date(), open=o, high=h, low=lo, close=c, volume=v)


def window_of(panel: pd.DataFrame, symbol: str, end: str, n: int) -> BarWindow:
    rows = panel[(panel["symbol"] == symbol) & (panel["date"] <= end)].tail(n)
    w = None
    for r in rows.itertuples(index=False):
        w = append_bar(w, bar(symbol, r.date, r.open, r.high, r.low, r.close, r.volume), n)
    return w


async def until(predicate, timeout: float, what: str):
    """predicate()'s value once it is truthy; an AssertionError saying `what` did not
    happen within `timeout` seconds otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := await predicate():
            return value
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what} within {timeout} s")


def documentation() -> str:
    """README.md and every page of the site under docs/, as one text: the facts that tests hold the
    code to (a table of settings, of metrics, the request example) live on the site's pages."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return "\n".join(p.read_text() for p in pages)
