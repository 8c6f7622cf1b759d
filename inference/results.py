"""Forecast results as the wire contract has them: prices, quantiles, intervals."""
from datetime import date

import numpy as np

from inference.conformal import LEVELS, AdaptiveScales, intervals, scaled_quantiles
from inference.distribution import Distribution
from inference.greeks import at_the_money
from inference.options import implied
from inference.risk import RiskAssessment
from inference.surface import Surface
from schemas import QUANTILE_KEYS, AttentionWeights, ErrorInfo, ForecastRequest, ForecastResult, HorizonForecast, RegimeInfo


def ok_result(*, request: ForecastRequest, request_id: str, as_of: date, last_close: float,
              model_version: str, dist: Distribution, risk: RiskAssessment | None,
              regime: RegimeInfo | None, latency_ms: float, rate: float = 0.0,
              symbol_regime: RegimeInfo | None = None,
              attention: AttentionWeights | None = None, surface: Surface | None = None,
              scales: dict | None = None) -> ForecastResult:
    """With include_options_greeks: `rate`, the risk-free rate per year, prices options at
    the forecast's volatility, and `surface`, the symbol's option surface, adds what the
    market implies. `scales`: horizon -> the log interval scales learnt online
    (inference/conformal.py), which spread that horizon's intervals and quantiles further."""
    dist = dist.select(request.forecast_horizons)
    options, implied_at = (implied(surface, request.symbol, as_of, last_close, dist.horizons)
                           if request.include_options_greeks else (None, {}))
    levels = sorted(request.confidence_intervals)
    forecasts = []
    for i, h in enumerate(dist.horizons):
        adaptive = AdaptiveScales(log_scale=scales[h]) if scales and h in scales else None
        s = adaptive.scales(levels) if adaptive else np.ones(len(levels))
        lo, hi = intervals(dist.quantiles[i:i + 1], levels, s)  # (1, L) each, log returns
        q = scaled_quantiles(dist.quantiles[i:i + 1], adaptive)[0] if adaptive else dist.quantiles[i]
        forecasts.append(HorizonForecast(
            horizon=h,
            point=float(last_close * np.exp(dist.point[i])),
            quantiles={k: float(v) for k, v in zip(QUANTILE_KEYS, last_close * np.exp(q))},
            intervals={str(c): (float(last_close * np.exp(lo[0, j])), float(last_close * np.exp(hi[0, j])))
                       for j, c in enumerate(levels)},
            interval_scales=None if adaptive is None else
            {str(c): float(v) for c, v in zip(LEVELS, adaptive.scales(LEVELS))},
            volatility=float(dist.volatility[i]),
            prob_up=float(dist.prob_up[i]),
            options=at_the_money(last_close, h, float(dist.volatility[i]), rate)
            if request.include_options_greeks else None,
            implied=implied_at.get(h),
        ))
    return ForecastResult(
        request_id=request_id, symbol=request.symbol, as_of=as_of, last_close=last_close, model_version=model_version,
        status="ok", forecasts=forecasts, regime=regime, symbol_regime=symbol_regime, latency_ms=latency_ms, attention_weights=attention,
        options=options, risk=None if risk is None else risk.info(),
    )


def error_result(*, request: ForecastRequest, request_id: str, model_version: str, code: str,
                 message: str, as_of: date | None = None, latency_ms: float = 0.0,
                 retry_after_s: float | None = None) -> ForecastResult:
    return ForecastResult(request_id=request_id, batch_id=request.batch_id, symbol=request.symbol, as_of=as_of,
                          model_version=model_version, status="error", latency_ms=latency_ms,
                          error=ErrorInfo(code=code, message=message, retry_after_s=retry_after_s))
