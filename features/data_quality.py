"""Data quality of a price series, the same checks on the whole history (a report per
series: `tft-forecast data-quality`) and on each live bar as it joins its window
(counted in /metrics). A flagged bar is still used: these are what to look at, not what
to refuse (features/quality.py refuses the impossible).

- missing sessions: NYSE sessions between a series' bars with no bar;
- stale values: a close equal to the STALE_RUN closes before it (a feed that froze);
- outliers: a daily log return over OUTLIER_Z robust standard deviations (1.4826 times
  the median absolute return of the OUTLIER_WINDOW sessions before it);
- late listing: a traded series whose first bar comes after the panel's first day.
"""
import numpy as np
import pandas as pd

from features.calendar import sessions

STALE_RUN = 4
OUTLIER_Z = 8.0
OUTLIER_WINDOW = 63
CHECKS = ("missing_sessions", "stale", "outlier")


def flags(dates: np.ndarray, close: np.ndarray) -> dict[str, np.ndarray]:
    """Per bar (N,) of a series in date order: the sessions missing just before it, and
    whether it is stale or an outlier, from the bars up to it only."""
    days = np.asarray(dates, dtype="datetime64[D]")
    s = sessions()
    at = np.searchsorted(s, days)
    missing = np.zeros(len(days), dtype=int)
    missing[1:] = np.maximum(np.diff(at) - 1, 0)
    same = np.concatenate([[False], close[1:] == close[:-1]])
    run = pd.Series(same).groupby((~same).cumsum()).cumsum().values  # equal closes in a row so far
    stale = run >= STALE_RUN
    r = np.abs(np.diff(np.log(close), prepend=np.nan))
    mad = pd.Series(r).shift(1).rolling(OUTLIER_WINDOW, min_periods=OUTLIER_WINDOW // 2).median().values
    with np.errstate(invalid="ignore", divide="ignore"):
        outlier = r > OUTLIER_Z * 1.4826 * mad
    return {"missing_sessions": missing, "stale": stale, "outlier": np.nan_to_num(outlier).astype(bool)}


def last_bar(dates: np.ndarray, close: np.ndarray) -> list[str]:
    """The checks the last bar of a window fails, as `flags` would flag it on the whole
    series (a test holds them equal), in tens of microseconds: a live bar as it joins."""
    out = []
    days = np.asarray(dates[-2:], dtype="datetime64[D]")
    if len(days) == 2:
        s = sessions()
        if int(np.searchsorted(s, days[1]) - np.searchsorted(s, days[0])) > 1:
            out.append("missing_sessions")
    tail = close[-(STALE_RUN + 1):]
    if len(tail) == STALE_RUN + 1 and np.all(tail == tail[-1]):
        out.append("stale")
    r = np.abs(np.diff(np.log(close[-(OUTLIER_WINDOW + 2):])))
    before = r[:-1][-OUTLIER_WINDOW:]
    if len(before) >= OUTLIER_WINDOW // 2 and r[-1] > OUTLIER_Z * 1.4826 * np.median(before):
        out.append("outlier")
    return out


def report(bars: pd.DataFrame, first_day: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per series of a long frame (date, symbol, close, ...): bars, first and last
    day, sessions missing, stale bars, outliers (and the worst day), late listing."""
    first_day = bars["date"].min() if first_day is None else first_day
    rows = []
    for symbol, g in bars.sort_values("date").groupby("symbol"):
        f = flags(g["date"].values, g["close"].values.astype(float))
        worst = g["date"].values[f["outlier"]]
        rows.append({"symbol": symbol, "bars": len(g), "first": g["date"].iloc[0].date(),
                     "last": g["date"].iloc[-1].date(), "missing_sessions": int(f["missing_sessions"].sum()),
                     "stale": int(f["stale"].sum()), "outliers": int(f["outlier"].sum()),
                     "outlier_days": ", ".join(str(pd.Timestamp(d).date()) for d in worst[:5]),
                     "late_listing": bool(g["date"].iloc[0] > first_day)})
    return pd.DataFrame(rows)
