"""The random walk with rolling volatility: the honest baseline every model must beat.

log P(t+h) - log P(t) ~ N(0, sigma^2 h), sigma the standard deviation of the last
`vol_window` daily log returns. It stays available as the `baseline` model.
"""
import numpy as np

from features.cross_asset import Context
from features.window import BarWindow
from inference.distribution import Distribution, gaussian
from schemas import HORIZONS, QUANTILES


class RandomWalkForecaster:
    version = "baseline-rw-1"
    horizons = HORIZONS
    quantiles = QUANTILES
    input_names = ()  # it attends to nothing

    def __init__(self, vol_window: int = 63):
        self.vol_window = vol_window
        self.min_history = vol_window + 1

    def describe(self) -> dict:
        return {"kind": "random_walk", "vol_window": self.vol_window}

    def predict(self, items: list[tuple[BarWindow, Context]]) -> list[Distribution]:
        horizons = np.asarray(HORIZONS, dtype=np.float64)
        out = []
        for w, _ in items:
            returns = np.diff(np.log(w.close[-self.min_history:]))
            sigma = returns.std(ddof=1) * np.sqrt(horizons)
            out.append(gaussian(HORIZONS, np.zeros_like(horizons), sigma))
        return out
