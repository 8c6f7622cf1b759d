"""A book's forecast from its members' served forecasts: each member is a forecast
request like any other (rate limits, audit and risk adjustment as always), and the
book's answer is read off their results, joined by the served model's copula.

Reading the marginals off the results rather than off the model's raw output means the
book is built from exactly what each member was served, wherever it was served: a member
owned by another worker comes back as a result too.
"""
import numpy as np

from inference.book import book_risk
from inference.conformal import LEVELS, AdaptiveScales, scaled_quantiles
from inference.dependence import Dependence
from inference.marginal import table
from schemas import QUANTILE_KEYS, QUANTILES, ErrorInfo, ForecastRequest, ForecastResult
from schemas.portfolio import BookHorizon, DependenceInfo, PortfolioRequest, PortfolioResult

def members(request: PortfolioRequest, request_id: str) -> list[ForecastRequest]:
    """One forecast request per symbol, named `<request id>:<symbol>` (a redelivery asks
    them again under the same names, and is answered from their receipts)."""
    return [ForecastRequest(symbol=s, user_id=request.user_id, forecast_horizons=request.forecast_horizons,
                            risk_adjustment=request.risk_adjustment, batch_id=request_id,
                            request_id=f"{request_id}:{s}") for s in sorted(request.weights)]


def tables(results: list[ForecastResult], horizon: int) -> np.ndarray:
    """(n, K) each result's served distribution at `horizon` on the score grid. A result's
    quantiles are served ones: spread by the risk factor and by the adaptive scale of the
    central interval each bounds (inference.conformal.scaled_quantiles); the raw ones are
    recovered by the inverse spreads first, and the table spreads every level by its own."""
    raw, spread, log_scales = [], [], []
    for r in results:
        f = next(f for f in r.forecasts if f.horizon == horizon)
        served = np.log(np.array([f.quantiles[k] for k in QUANTILE_KEYS]) / r.last_close)
        risk = r.risk.interval_scale if r.risk is not None else 1.0
        logs = np.log([f.interval_scales[str(c)] for c in LEVELS]) if f.interval_scales else np.zeros(len(LEVELS))
        mid = served[QUANTILES.index(0.5)]
        raw.append(scaled_quantiles((mid + (served - mid) / risk)[None], AdaptiveScales(log_scale=-logs))[0])
        spread.append(risk)
        log_scales.append(logs)
    return table(np.array(raw), np.array(spread), np.array(log_scales))


def refusal(results: list[ForecastResult]) -> ErrorInfo | None:
    """The book cannot be forecast when a member could not be: the first failing code,
    every failing symbol named."""
    failed = [r for r in results if r.status != "ok"]
    if not failed:
        # A worker of an older version serves results without the close they start from.
        if bare := [r.symbol for r in results if r.last_close is None]:
            return ErrorInfo(code="internal_error", message=f"served without last_close: {', '.join(bare)}")
        return None
    first = failed[0].error
    return ErrorInfo(code=first.code, retry_after_s=first.retry_after_s,
                     message="; ".join(f"{r.symbol}: {r.error.message}" for r in failed))


def answer(request: PortfolioRequest, request_id: str, results: list[ForecastResult],
           dependence: Dependence | None, model_version: str, latency_ms: float) -> PortfolioResult:
    """results: the members' (members() order)."""
    weights = dict(sorted(request.weights.items()))
    common = dict(request_id=request_id, model_version=model_version, weights=weights, members=results,
                  latency_ms=latency_ms)
    if (error := refusal(results)) is not None:
        return PortfolioResult(status="error", error=error, **common)
    symbols, w = list(weights), np.array(list(weights.values()))
    levels = np.array(sorted(request.levels))
    uncovered = []
    horizons = []
    for h in request.forecast_horizons:
        if dependence is None:
            corr, uncovered, dof = np.eye(len(symbols)), symbols, None
        else:
            (corr, uncovered), dof = dependence.of(symbols, h), dependence.dof
        risk = book_risk(w, tables(results, h), corr, dof, levels, h)
        horizons.append(BookHorizon(
            horizon=h, quantiles={k: float(v) for k, v in zip(QUANTILE_KEYS, risk.quantiles)},
            mean=risk.mean, volatility=risk.volatility,
            value_at_risk={str(c): float(v) for c, v in zip(levels, risk.var)},
            expected_shortfall={str(c): float(v) for c, v in zip(levels, risk.es)},
            contributions={str(c): dict(zip(symbols, map(float, row))) for c, row in zip(levels, risk.contributions)}))
    info = DependenceInfo(family="independent") if dependence is None else DependenceInfo(
        family=dependence.family, dof=dependence.dof, as_of=dependence.as_of, halflife_sessions=dependence.halflife,
        model_version=dependence.model_version, uncovered=uncovered)
    return PortfolioResult(status="ok", as_of=max(r.as_of for r in results), horizons=horizons, dependence=info,
                           **common)
