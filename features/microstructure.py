"""Liquidity and microstructure proxies that daily bars allow.

Spread estimators: Roll (1984) from the autocovariance of returns, Corwin & Schultz
(2012) from two-day high-low ranges; illiquidity: Amihud (2002).
"""
import numpy as np

from features import rolling
from features.window import BarWindow

_CS_DENOM = 3 - 2 * np.sqrt(2)


def compute(w: BarWindow) -> dict[str, np.ndarray]:
    o, h, l, c, v = w.open, w.high, w.low, w.close, w.volume
    r = w.returns
    logv = np.log1p(v)
    dollar = c * v
    with np.errstate(invalid="ignore", divide="ignore"):
        roll_cov = rolling.mean(r * rolling.lag(r, 1), 63) - rolling.mean(r, 63) ** 2
        return {
            "volume_z_21": (logv - rolling.mean(logv, 21)) / rolling.std(logv, 21),
            "volume_trend_5_21": rolling.mean(v, 5) / rolling.mean(v, 21) - 1,
            "log_dollar_volume_21": np.log(rolling.mean(dollar, 21)),
            "amihud_21": np.log(rolling.mean(np.abs(r) / dollar, 21) * 1e9),
            "corwin_schultz_21": rolling.mean(_corwin_schultz(h, l), 21),
            "roll_spread_63": 2 * np.sqrt(np.maximum(-roll_cov, 0)),
            "overnight_gap": np.log(o / rolling.lag(c, 1)),
            "intraday_range": np.log(h / l),
            "close_location": np.where(h > l, ((c - l) - (h - c)) / (h - l), 0.0),
        }


def _corwin_schultz(h: np.ndarray, l: np.ndarray) -> np.ndarray:
    beta = np.log(h / l) ** 2 + rolling.lag(np.log(h / l) ** 2, 1)
    gamma = np.log(np.maximum(h, rolling.lag(h, 1)) / np.minimum(l, rolling.lag(l, 1))) ** 2
    alpha = (np.sqrt(2 * beta) - np.sqrt(beta)) / _CS_DENOM - np.sqrt(gamma / _CS_DENOM)
    spread = 2 * np.expm1(alpha) / (1 + np.exp(alpha))
    return np.where(np.isnan(spread), np.nan, np.maximum(spread, 0.0))
