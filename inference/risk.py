"""Risk adjustment: named rules that widen a forecast when the market it is made in is
riskier than the history the model learnt from, each a small function of the bars up to
the forecast's day.

Every rule measures a variance-like ratio of "now" to "normal" and widens the spread by
its square root, never narrowing it (a calm spell is no reason to claim precision):

- vol_spike: the 21-session realized volatility over the 252-session one; models react
  to a jump in volatility with a lag;
- vol_percentile: the 21-session volatility over its own 90th percentile of the last 252
  sessions, when above it;
- vix_inversion: VIX over VIX3M, when near-term fear is above the three-month one;
- drawdown: 1 plus the fall from the 252-session high;
- regime: 1 plus the probability that the symbol is in Crisis.

The rules are vectorised over a series, so the walk-forward evaluation
(inference/risk_rules.py) and the service run the same code. A forecast is widened by
the largest factor among the rules kept (InferenceConfig.risk_rules): they measure
overlapping things, and a product would count one storm several times. Which are kept
is what the walk-forward evaluation showed (README).
"""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from features import rolling
from features.cross_asset import Context
from features.window import BarWindow
from inference.config import InferenceConfig
from inference.distribution import Distribution
from schemas import RegimeInfo, RiskInfo, RiskRule

SHORT, LONG, PERCENTILE = 21, 252, 90
LEVELS = ((1.25, "high"), (1.1, "elevated"))  # the interval scale above which a symbol's risk is at that level


@dataclass(frozen=True)
class Inputs:
    """What the rules read, one value per day: closes, and the context aligned to them."""

    close: np.ndarray  # (T,)
    vix: np.ndarray  # (T,) NaN where unknown
    vix3m: np.ndarray  # (T,)
    p_crisis: np.ndarray  # (T,) the symbol's filtered probability of Crisis; NaN where unknown

    @classmethod
    def of(cls, window: BarWindow, context: Context, regime: RegimeInfo | None) -> "Inputs":
        p = np.full(len(window), np.nan)
        if regime is not None and regime.probabilities is not None:
            p[-1] = regime.probabilities.get("Crisis", 0.0)
        return cls(window.close, context.aligned("VIX", window.dates), context.aligned("VIX3M", window.dates), p)


def _vol(close: np.ndarray, n: int) -> np.ndarray:
    return rolling.std(rolling.diff(np.log(close)), n)


def vol_spike(x: Inputs) -> np.ndarray:
    return _vol(x.close, SHORT) / _vol(x.close, LONG)


def vol_percentile(x: Inputs) -> np.ndarray:
    short = _vol(x.close, SHORT)
    out = np.full(len(short), np.nan)
    if len(short) >= LONG:
        years = sliding_window_view(short, LONG)  # (T - LONG + 1, LONG)
        level = np.full(len(years), np.nan)
        full = np.isfinite(years).all(axis=1)
        level[full] = np.percentile(years[full], PERCENTILE, axis=1)  # vectorised; nanpercentile goes row by row
        if (~full).any():  # the first years, before the short volatility is defined on every day
            with np.errstate(all="ignore"):
                level[~full] = np.nanpercentile(years[~full], PERCENTILE, axis=1)
        out[LONG - 1:] = short[LONG - 1:] / level
    return out


def vix_inversion(x: Inputs) -> np.ndarray:
    return x.vix / x.vix3m


def drawdown(x: Inputs) -> np.ndarray:
    return 2.0 - x.close / rolling.maximum(x.close, LONG)  # 1 + the fall from the high


def regime(x: Inputs) -> np.ndarray:
    return 1.0 + x.p_crisis


RULES: dict[str, tuple[Callable[[Inputs], np.ndarray], str]] = {
    "vol_spike": (vol_spike, "21-session volatility is {v:.2f}x its 252-session level"),
    "vol_percentile": (vol_percentile, "21-session volatility is {v:.2f}x its 90th percentile of the year"),
    "vix_inversion": (vix_inversion, "VIX is {v:.2f}x VIX3M: the term structure is inverted"),
    "drawdown": (drawdown, "the price is {d:.0%} below its 252-session high"),
    "regime": (regime, "the symbol is in Crisis with probability {d:.0%}"),
}


def factors(ratio: np.ndarray) -> np.ndarray:
    """A rule's ratio -> the factor it widens by: sqrt, at least 1 (and 1 where unknown)."""
    return np.sqrt(np.maximum(np.nan_to_num(ratio, nan=1.0, posinf=1.0), 1.0))


@dataclass(frozen=True)
class RuleApplied:
    name: str
    value: float  # the rule's ratio on the forecast's day (NaN where its inputs are missing)
    factor: float
    applied: bool  # among the rules kept (RISK_RULES)
    reason: str


@dataclass(frozen=True)
class RiskAssessment:
    rules: tuple[RuleApplied, ...]
    scale: float  # factor applied to the spread of the quantiles: the largest kept rule's
    var_95: float  # 95% value-at-risk of the shortest horizon, a fraction of price, after widening
    raw_var_95: float  # the same before

    @property
    def level(self) -> str:
        return next((name for above, name in LEVELS if self.scale > above), "normal")

    def info(self) -> RiskInfo:
        return RiskInfo(level=self.level, interval_scale=self.scale, var_95=self.var_95, raw_var_95=self.raw_var_95,
                        rules=rule_infos(self))


def rule_infos(risk: RiskAssessment) -> list[RiskRule]:
    return [RiskRule(name=r.name, value=r.value if np.isfinite(r.value) else None, factor=r.factor,
                     applied=r.applied, reason=r.reason) for r in risk.rules]


def assess(window: BarWindow, context: Context, symbol_regime: RegimeInfo | None, dist: Distribution,
           config: InferenceConfig) -> RiskAssessment:
    x = Inputs.of(window, context, symbol_regime)
    applied = []
    for name, (rule, text) in RULES.items():
        value = float(rule(x)[-1])
        factor = float(factors(np.array([value]))[0])
        reason = text.format(v=value, d=value - 1) if np.isfinite(value) else "its inputs are missing"
        applied.append(RuleApplied(name, value, factor, name in config.risk_rules, reason))
    scale = max([1.0, *(r.factor for r in applied if r.applied)])
    var = lambda d: float(-np.expm1(d.at(np.array([0.05]))[0, 0]))
    return RiskAssessment(tuple(applied), scale, var(dist.widened(scale)), var(dist))
