"""Calendar inputs from the NYSE calendar: known in advance, so the TFT decoder sees
them for the days it forecasts."""
import warnings
from datetime import date, timedelta
from functools import cache

import numpy as np


@cache
def sessions() -> np.ndarray:
    """NYSE sessions from 1990 to two years ahead, datetime64[D]."""
    import exchange_calendars as xc  # slow to import; only calendar users pay for it
    end = date.today() + timedelta(days=730)
    with warnings.catch_warnings():
        # exchange_calendars reads tz-aware Series.values, which pandas 3.1 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        cal = xc.get_calendar("XNYS", start="1990-01-01", end=end.isoformat())
    return cal.sessions.values.astype("datetime64[D]")


def next_sessions(after: np.datetime64, n: int) -> np.ndarray:
    """The n NYSE sessions after `after`, datetime64[D]."""
    s = sessions()
    i = int(np.searchsorted(s, after, side="right"))
    if i + n > len(s):
        raise ValueError(f"the NYSE calendar here ends at {s[-1]}; cannot look {n} sessions past {after}")
    return s[i:i + n]


def is_session(days: np.ndarray) -> np.ndarray:
    s = sessions()
    i = np.clip(np.searchsorted(s, days), 0, len(s) - 1)
    return s[i] == days


def compute(days: np.ndarray) -> dict[str, np.ndarray]:
    """Features of each day in `days` (datetime64[D], ascending)."""
    s = sessions()
    i = np.searchsorted(s, days)
    known = len(days) and i[-1] < len(s)
    if known and s[i].tobytes() == days.tobytes():
        # sessions only (always, from the panel or the stream): read the table
        table = _session_table()
        return {name: table[name][i] for name in table}
    return _compute(days, i)


@cache
def _session_table() -> dict[str, np.ndarray]:
    s = sessions()
    return _compute(s, np.arange(len(s)))


def _compute(days: np.ndarray, i: np.ndarray) -> dict[str, np.ndarray]:
    """The features of `days`, where i is each day's position in sessions()."""
    s = sessions()
    prev_gap = (days - s[np.maximum(i - 1, 0)]).astype(int)
    next_gap = (s[np.minimum(i + 1, len(s) - 1)] - days).astype(int)
    weekday = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    months = days.astype("datetime64[M]")
    day_of_month = (days - months.astype("datetime64[D]")).astype(int) + 1
    month_end = (months + 1).astype("datetime64[D]")
    sessions_left = np.searchsorted(s, month_end) - i - 1
    return {
        "day_of_week": weekday / 4,
        "day_of_month": (day_of_month - 1) / 30,
        "month": (months.astype(int) % 12) / 11,
        "sessions_to_month_end": sessions_left / 22,
        # a weekday closure next to the day: Friday->Monday is 3 days and no holiday
        "pre_holiday": (next_gap > np.where(weekday == 4, 3, 1)).astype(float),
        "post_holiday": (prev_gap > np.where(weekday == 0, 3, 1)).astype(float),
    }
