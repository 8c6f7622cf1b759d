"""Live validation: what each served forecast came to, scored as `tft-forecast evaluate`
scores a backtest, beside the random walk on the same rows.

A forecast made on a symbol's bar of day A for horizon h is settled by that symbol's
bar h sessions later, counted in the symbol's own bars, not in calendar days. The
random walk is scored in shadow from the same bars up to A: its sigma is the standard
deviation of the 63 daily log returns that end at A (the `baseline` model's, and
evaluate's), times sqrt(h).

The served version's predecessor is scored in shadow on the same forecasts: its forecast
is made at settling time from the window and context cut at day A, the bars it would
have seen, so no second forward pass runs on the serving path.
"""
import math
from datetime import date
from typing import NamedTuple

import numpy as np
from scipy.stats import norm

from features.cross_asset import Context
from features.window import BarWindow
from inference import conformal
from inference.distribution import Distribution
from schemas import QUANTILE_KEYS, QUANTILES
from tft.evaluate import RW_WINDOW, pinball
from tft.quantiles import quantile_at

_Z = norm.ppf(QUANTILES)
NOMINAL = (0.68, 0.95)  # central intervals scored for every forecast, model and random walk alike


class Outcome(NamedTuple):
    target_date: date
    actual: float
    rw_sigma: float  # the random walk's sigma of the log return to the horizon, from bars up to as_of


NEVER = "never"  # the forecast's day has left the window, or never was in it: it cannot be settled


def outcome(window: BarWindow, as_of: date, horizon: int) -> Outcome | str | None:
    """What settles the forecasts made on `as_of` for `horizon`: the bar `horizon` bars
    after it in the window; None while that bar has not come, NEVER if it cannot."""
    day = np.datetime64(as_of, "D")
    if len(window) == 0 or day > window.dates[-1]:
        return None  # the window has not reached the day: its bars are still coming (a restart's seeding)
    a = int(np.searchsorted(window.dates, day))
    if window.dates[a] != day or a < RW_WINDOW:
        return NEVER
    t = a + horizon
    if t >= len(window):
        return None
    logc = np.log(window.close[a - RW_WINDOW:a + 1])
    sigma = float(np.diff(logc).std(ddof=1) * math.sqrt(horizon))
    return Outcome(window.dates[t].astype(object), float(window.close[t]), sigma)


def central(q: np.ndarray, nominal: float) -> tuple[float, float]:
    lo, hi = quantile_at([(1 - nominal) / 2, (1 + nominal) / 2], QUANTILES, q)
    return float(lo), float(hi)


def score(forecast: dict, outcome: Outcome) -> tuple:
    """A forecast_metrics row and its outcome -> a forecast_validation row, in the order of
    persistence/queries/validation.sql. Errors are on log returns, as in evaluate."""
    close, actual = forecast["last_close"], outcome.actual
    y = math.log(actual / close)
    q = np.log(np.array([forecast[f"q{round(float(k) * 100)}"] for k in QUANTILE_KEYS]) / close)  # (Q,)
    point = math.log(forecast["point"] / close)
    held = {level: bool(lo <= actual <= hi) for level, (lo, hi) in forecast["intervals"].items()}
    loss, *covered = losses(q, y)
    covered = [held.get(str(c), hit) for c, hit in zip(NOMINAL, covered)]  # the interval served, if asked
    return (forecast["request_id"], forecast["horizon"], forecast["symbol"], outcome.target_date, actual,
            abs(forecast["point"] / actual - 1), loss, *covered,
            forecast["model_version"], y, point - y, bool(np.sign(point) == np.sign(y)), held,
            *losses(outcome.rw_sigma * _Z, y))


def losses(q: np.ndarray, y: float) -> tuple[float, bool, bool]:
    """Pinball loss of log-return quantiles q (Q,) at QUANTILES for the log return y, and
    whether each NOMINAL central interval held it."""
    return (pinball(q[None], np.array([y])), *(_inside(central(q, c), y) for c in NOMINAL))


def as_of_inputs(window: BarWindow, context: Context, as_of: date) -> tuple[BarWindow, Context]:
    """The window and context as they stood at the close of `as_of`."""
    day = np.datetime64(as_of, "D")
    return window.until(day), context.until(day)


def shadow_score(version: str, forecast: dict, dist: Distribution, outcome: Outcome) -> tuple:
    """Another version's forecast for the same key (dist, from the bars up to its day),
    spread as the served forecast was, scored like it: a forecast_shadow row."""
    y = math.log(outcome.actual / forecast["last_close"])
    q = dist.widened(forecast["interval_scale"]).quantiles[dist.horizons.index(forecast["horizon"])]  # (Q,)
    return (forecast["request_id"], forecast["horizon"], version, *losses(q, y))


def interval_misses(forecast: dict, outcome: Outcome) -> np.ndarray:
    """(len(conformal.LEVELS),) whether the outcome fell outside each central interval as
    served: the result's own interval at that level where the request asked for it, else
    the one read off the served quantiles."""
    actual, close = outcome.actual, forecast["last_close"]
    q = np.log(np.array([forecast[f"q{round(float(k) * 100)}"] for k in QUANTILE_KEYS]) / close)
    out = []
    for level in conformal.LEVELS:
        served = forecast["intervals"].get(str(level))
        lo, hi = (math.log(b / close) for b in served) if served else central(q, level)
        out.append(not lo <= math.log(actual / close) <= hi)
    return np.array(out)


def _inside(interval: tuple[float, float], y: float) -> bool:
    return bool(interval[0] <= y <= interval[1])
