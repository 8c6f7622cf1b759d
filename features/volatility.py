"""Realized volatility from closes and from ranges, annualised, and how it is changing.

Range estimators: Parkinson (1980), Garman-Klass (1980), Rogers-Satchell (1991),
Yang-Zhang (2000), all over 21 sessions.
"""
import numpy as np

from features import rolling
from features.window import BarWindow

ANNUAL = 252
WINDOW = 21
RV_WINDOWS = (5, 10, 21, 63)


def compute(w: BarWindow) -> dict[str, np.ndarray]:
    o, h, l, c = w.open, w.high, w.low, w.close
    r = w.returns
    out = {f"rv_{n}": rolling.std(r, n) * np.sqrt(ANNUAL) for n in RV_WINDOWS}
    hl, co = np.log(h / l), np.log(c / o)
    rs = np.log(h / c) * np.log(h / o) + np.log(l / c) * np.log(l / o)
    overnight = np.log(o / rolling.lag(c, 1))
    k = 0.34 / (1.34 + (WINDOW + 1) / (WINDOW - 1))
    yz = (rolling.std(overnight, WINDOW) ** 2 + k * rolling.std(co, WINDOW) ** 2
          + (1 - k) * rolling.mean(rs, WINDOW))
    with np.errstate(invalid="ignore", divide="ignore"):
        out |= {
            "parkinson_21": np.sqrt(rolling.mean(hl ** 2, WINDOW) / (4 * np.log(2)) * ANNUAL),
            "garman_klass_21": np.sqrt(np.maximum(rolling.mean(
                0.5 * hl ** 2 - (2 * np.log(2) - 1) * co ** 2, WINDOW), 0) * ANNUAL),
            "rogers_satchell_21": np.sqrt(np.maximum(rolling.mean(rs, WINDOW), 0) * ANNUAL),
            "yang_zhang_21": np.sqrt(np.maximum(yz, 0) * ANNUAL),
            "vol_of_vol_63": rolling.std(np.log(out["rv_21"]), 63),
            "vol_ratio_5_63": out["rv_5"] / out["rv_63"],
        }
    return out
