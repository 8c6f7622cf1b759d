"""Bars checked as market data before they enter a window, and windows checked before
a model reads them.

A bar can be valid JSON of the right types and still be impossible: a close far above
the day's high, a date in 1800, a price of 1e308. One such bar in a window would make
every later forecast of its symbol an error, so each is refused with its reason.

The thresholds were set against the real panel (1990-2023): its largest daily move is
AAPL on 2000-09-29, a log return of -0.73, so `max_jump` (1.0, a factor of e) refuses
no real bar while it catches a misplaced decimal point. Context series (VIX, rates,
put/call ratios, implied volatilities) are not traded prices (SPY and the sector ETFs,
context too, are): CBOE's VIX opens outside
its day's range 47 times in the data, and ratios jump by 10x in it, so for them only
the range, bounds and dates are checked.
"""
import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from features.cross_asset import SENTIMENT, VOLATILITY
from features.options import is_option_series
from features.window import BarWindow
from schemas import Bar


@dataclass(frozen=True)
class QualityConfig:
    max_price: float = 1e7  # the panel's largest close is 16,057 (an index)
    max_volume: float = 1e13  # its largest volume is 1.2e10
    earliest: date = date(1900, 1, 1)
    future_days: int = 1  # a bar may be dated this many days past today (time zones)
    max_jump: float = 1.0  # |log(close / previous close)| of a traded symbol


def is_traded(symbol: str) -> bool:
    """A price someone trades at, as opposed to an index level, a rate or a ratio."""
    return symbol not in VOLATILITY and symbol not in SENTIMENT and not is_option_series(symbol)


def bar_problems(bar: Bar, config: QualityConfig, today: date) -> list[str]:
    """What is impossible about `bar` on its own."""
    problems = []
    o, h, lo, c = bar.open, bar.high, bar.low, bar.close
    if max(o, h, lo, c) > config.max_price:
        problems.append(f"a price above {config.max_price:g}")
    if bar.volume > config.max_volume:
        problems.append(f"volume above {config.max_volume:g}")
    if is_traded(bar.symbol) and not (h >= max(o, c) and min(o, c) >= lo):
        problems.append(f"open {o:g} or close {c:g} outside the day's range [{lo:g}, {h:g}]")
    if bar.day < config.earliest:
        problems.append(f"dated {bar.day}, before {config.earliest}")
    if bar.day > today + timedelta(days=config.future_days):
        problems.append(f"dated {bar.day}, after today's session ({today})")
    return problems


def fits_window(bar: Bar, window: BarWindow | None, config: QualityConfig, max_len: int) -> str | None:
    """Why `bar` cannot join `window`, or None. A bar for the window's last date replaces
    it (a correction). One for an earlier date already held would rewrite history that
    forecasts were made on, and is refused; one for a missing earlier date fills the gap
    (a keyless producer's bars cross partitions and arrive out of order), unless it is
    older than the window keeps: its first bar once full, else `max_len` sessions
    (about 7/5 calendar days each, with room for holidays) before its last."""
    if window is None or len(window) == 0:
        return None
    day = np.datetime64(bar.day, "D")
    i = int(np.searchsorted(window.dates, day))
    held = i < len(window) and window.dates[i] == day
    if held and i < len(window) - 1:
        return (f"dated {bar.day}, a day the window holds before its last ({window.last_date}): "
                "history is not rewritten")
    if i == 0 and not held:
        full = len(window) >= max_len
        oldest = window.dates[0] if full else window.dates[-1] - np.timedelta64(max_len * 7 // 5 + 15, "D")
        if day < oldest:
            return f"dated {bar.day}, older than the window keeps (from {oldest} on)"
    if not is_traded(bar.symbol) or i == 0:
        return None
    previous = window.close[i - 1]  # the close before this bar's day
    jump = math.log(bar.close / previous)
    if abs(jump) > config.max_jump:
        return (f"close {bar.close:g} is a log move of {jump:+.2f} from the last close {previous:g}; "
                f"more than {config.max_jump:g} is refused")
    return None


def window_problem(window: BarWindow) -> str | None:
    """What makes a window unfit to forecast from (a bad bar that got in before these
    checks, a corrupted table), or None."""
    prices = np.stack([window.open, window.high, window.low, window.close])
    if not np.isfinite(prices).all() or (prices <= 0).any():
        return "the window holds prices that are not finite and positive"
    if (window.high < window.low).any():
        return "the window holds a bar whose high is below its low"
    if len(window) > 1 and (np.diff(window.dates) <= np.timedelta64(0, "D")).any():
        return "the window's dates are not increasing"
    if not np.isfinite(window.volume).all() or (window.volume < 0).any():
        return "the window holds a volume that is not finite and non-negative"
    return None
