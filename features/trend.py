"""Multi-timeframe trend and momentum, and the regime descriptors built on them."""
import numpy as np

from features import rolling
from features.window import BarWindow

MA_WINDOWS = (5, 10, 20, 50, 100, 200)
RETURN_WINDOWS = (1, 5, 10, 21, 63, 126, 252)
CROSSOVERS = ((5, 20), (20, 50), (50, 200))


def compute(w: BarWindow) -> dict[str, np.ndarray]:
    c, logc = w.close, w.log_close
    ma = {n: rolling.mean(c, n) for n in MA_WINDOWS}
    out = {f"dist_ma_{n}": c / ma[n] - 1 for n in MA_WINDOWS}
    out |= {f"ret_{n}": logc - rolling.lag(logc, n) for n in RETURN_WINDOWS}
    out["mom_252_21"] = rolling.lag(logc, 21) - rolling.lag(logc, 252)
    out |= {f"ma_cross_{a}_{b}": ma[a] / ma[b] - 1 for a, b in CROSSOVERS}
    return out


def regime(w: BarWindow, rv_21: np.ndarray) -> dict[str, np.ndarray]:
    """Trend strength, persistence, drawdown and where volatility sits in its year."""
    c, logc, r = w.close, w.log_close, w.returns
    r5 = logc - rolling.lag(logc, 5)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "trend_r2_63": _signed_r2(logc, 63),
            "up_share_21": rolling.mean((r > 0).astype(float), 21),
            "autocorr_63": rolling.autocorr(r, 63),
            "variance_ratio_5_126": rolling.std(r5, 126) ** 2 / (5 * rolling.std(r, 126) ** 2),
            "drawdown_252": c / rolling.maximum(c, 252) - 1,
            "vol_percentile_252": rolling.pct_rank(rv_21, 252),
        }



def _signed_r2(y: np.ndarray, n: int) -> np.ndarray:
    """R² of a straight line through the last n values, signed by the slope: the
    squared correlation of y with time, which needs no fit."""
    c = rolling.corr(y, np.arange(len(y), dtype=np.float64), n)
    return np.sign(c) * c * c
