"""Risk adjustment: widen a forecast when volatility has just jumped above its norm.

Models fitted on history react to a volatility spike with a lag; the ratio of short
to long realized volatility measures that lag, and the forecast's spread is widened
by its square root (never narrowed: a calm spell is not a reason to claim precision).
"""
from dataclasses import dataclass

import numpy as np

from features.window import BarWindow
from inference.config import InferenceConfig
from inference.distribution import Distribution


@dataclass(frozen=True)
class RiskAssessment:
    vol_ratio: float  # realized vol over the short window / over the long window
    scale: float  # factor applied to the spread of the quantiles
    var_95: float  # 95% value-at-risk of the shortest horizon, a fraction of price
    alert: bool


def assess(window: BarWindow, dist: Distribution, config: InferenceConfig) -> RiskAssessment:
    returns = np.diff(np.log(window.close[-(config.risk_long_window + 1):]))
    short = returns[-config.risk_short_window:].std(ddof=1)
    long = returns.std(ddof=1)
    ratio = float(short / long) if long > 0 else 1.0
    scale = max(1.0, float(np.sqrt(ratio)))
    q05 = dist.widened(scale).at(np.array([0.05]))[0, 0]
    return RiskAssessment(ratio, scale, float(-np.expm1(q05)), ratio > config.risk_vol_ratio_alert)
