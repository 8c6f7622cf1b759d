"""What goes out: the forecast result and its parts, and the events the service emits
(model jobs, regimes, risk levels, dead letters, the ledger of served forecasts). Field
names are the wire contract in the README."""
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from schemas.events import SCHEMA_VERSION, ForecastRequest

DISCLAIMER = (
    "Forecasts are statistical estimates for research and risk management, not "
    "investment advice. Past performance does not guarantee future results."
)


class ModelEvent(BaseModel):
    """`model.events`: a retraining job's steps, versions promoted, and automatic rollbacks."""

    schema_version: int = SCHEMA_VERSION
    job_id: str
    kind: Literal["queued", "started", "progress", "trained", "gate", "promoted", "kept", "failed",
                  "rolled_back"]
    at: datetime
    message: str
    progress: float = 0.0  # of the job, 0 to 1
    version: str | None = None
    detail: dict | None = None  # the gate's figures


class RegimeInfo(BaseModel):
    name: Literal["Bull", "Bear", "Sideways", "Crisis"]
    confidence: float
    probabilities: dict[str, float] | None = None


class OptionQuote(BaseModel):
    price: float
    delta: float
    gamma: float
    vega: float  # per volatility point (0.01)
    theta: float  # per calendar day


class OptionGreeks(BaseModel):
    """A European call and put struck at the last close, expiring at the horizon, priced
    by Black-Scholes at the forecast's own volatility."""

    strike: float
    years: float  # horizon / 252
    sigma: float  # the forecast volatility of the log return, annualised
    rate: float  # risk-free rate used, per year (fed funds)
    call: OptionQuote
    put: OptionQuote


class StraddleGreeks(BaseModel):
    """The at-the-money-forward straddle expiring at the horizon, priced on the option
    surface, in the chain's own price units (strikes are unadjusted)."""

    strike: float
    years: float  # horizon / 252
    sigma: float  # the surface's implied volatility there, annualised
    price: float
    delta: float
    gamma: float
    vega: float  # per volatility point (0.01)
    theta: float  # per calendar day


class ImpliedForecast(BaseModel):
    """What the option market prices for a horizon, beside the model's forecast. It is
    risk-neutral: the market's price of the move, not a forecast of it."""

    implied_move: float  # the straddle's price over spot
    volatility: float  # of the log return to the horizon, at the money: compare the model's
    quantiles: dict[str, float]  # the implied quantiles as prices, from the forecast's last close
    straddle: StraddleGreeks


class OptionsInfo(BaseModel):
    """Which option surface answered include_options_greeks, or why none did."""

    status: Literal["ok", "no_chain", "stale"]
    message: str
    chain_as_of: date | None = None
    spot: float | None = None  # the chain's
    expiries: int | None = None


class SmileInfo(BaseModel):
    """One expiry of a fitted surface: raw SVI in total variance against log(K / F)."""

    expiry: date
    years: float
    forward: float
    rate: float  # the expiry's own, from put-call parity
    atm_vol: float
    quotes: int  # out-of-the-money quotes it was fitted on
    rmse_vol: float  # of the fit, in volatility
    svi: dict[str, float]  # a, b, rho, m, s


class SurfaceInfo(BaseModel):
    """A symbol's latest fitted option surface (GET /market/options/{symbol})."""

    schema_version: int = SCHEMA_VERSION
    symbol: str
    as_of: date
    spot: float
    quotes_received: int
    fitted_at: datetime
    fit_seconds: float
    arbitrage: dict[str, float]  # butterfly_min_g (>= 0 is free of it), calendar_max_fall (<= 0)
    smiles: list[SmileInfo]


class HorizonForecast(BaseModel):
    horizon: int
    point: float
    quantiles: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    volatility: float  # standard deviation of the log return to this horizon
    prob_up: float
    # Each central level's spread scale learnt online from live outcomes (1: the model's own),
    # applied to the intervals and quantiles above; null until outcomes have come.
    interval_scales: dict[str, float] | None = None
    options: OptionGreeks | None = None  # when the request sets include_options_greeks
    implied: ImpliedForecast | None = None  # the same, where the symbol's option surface is current


class ErrorInfo(BaseModel):
    code: str
    message: str
    retry_after_s: float | None = None  # rate_limited: when one more request will be admitted


class RiskRule(BaseModel):
    """One named risk rule on the forecast's day (inference/risk.py)."""

    name: str
    value: float | None = None  # the rule's ratio of now to normal; None where its inputs are missing
    factor: float  # what it would widen the spread by, at least 1
    applied: bool  # kept by RISK_RULES: the widening is the largest applied factor
    reason: str


class RiskInfo(BaseModel):
    """What risk adjustment did to a forecast: `interval_scale` spreads the quantiles about
    the median (1: untouched), so the raw quantiles are q50 + (q - q50) / interval_scale."""

    level: Literal["normal", "elevated", "high"]
    interval_scale: float
    var_95: float  # 95% value-at-risk of the shortest horizon asked, a fraction of price, adjusted
    raw_var_95: float  # the same from the raw forecast
    rules: list[RiskRule]


class AttentionWeights(BaseModel):
    """What the forecast's own forward pass looked at (`include_attention`)."""

    # horizon -> encoder day (ISO date) -> weight: where each horizon's forecast attended; sums to 1
    temporal_attention: dict[str, dict[str, float]]
    # input -> its variable-selection weight, mean over the encoder days; sums to 1
    feature_attention: dict[str, float]


class ForecastResult(BaseModel):
    schema_version: int = SCHEMA_VERSION
    request_id: str
    batch_id: str | None = None
    symbol: str
    as_of: date | None = None
    last_close: float | None = None  # the close on as_of, which the forecast's returns start from
    model_version: str
    status: Literal["ok", "error"]
    forecasts: list[HorizonForecast] = []
    regime: RegimeInfo | None = None  # the market's: SPY's
    symbol_regime: RegimeInfo | None = None  # the symbol's own
    risk: RiskInfo | None = None  # with risk_adjustment
    # with include_attention, from a model that attends (null from the random walk)
    attention_weights: AttentionWeights | None = None
    options: OptionsInfo | None = None  # with include_options_greeks: the surface used, or why none
    latency_ms: float = 0.0
    disclaimer: str = DISCLAIMER
    error: ErrorInfo | None = None


class BatchResult(BaseModel):
    batch_id: str
    results: list[ForecastResult]  # one per symbol, in the batch's order; errors are entries too


class DeadLetter(BaseModel):
    """What `<topic>.dlq` carries: the original bytes and why they were refused."""

    schema_version: int = SCHEMA_VERSION
    topic: str
    partition: int
    offset: int
    key: str | None = None
    value: str  # the original bytes, decoded as UTF-8 with invalid bytes escaped
    reason: str
    failed_at: datetime


class RegimeState(BaseModel):
    """A symbol's regime as of its last bar (GET /market/regime/{symbol})."""

    schema_version: int = SCHEMA_VERSION
    symbol: str
    as_of: date  # the bar it was read from
    regime: RegimeInfo
    since: date  # the first bar of this regime
    sessions: int  # bars in it so far, the first and this one included
    previous: str | None = None  # the regime before it; None when it is the first seen
    model_version: str  # the served model, whose regime book read it


class RegimeEvent(RegimeState):
    """`regime.events`: one per bar of every traded symbol, `change` when its most likely
    regime is not the one before (or is the first), else `heartbeat`."""

    kind: Literal["change", "heartbeat"]


class RiskEvent(BaseModel):
    """`risk.events`: a symbol's risk level changed (seen by the first forecast after it)."""

    schema_version: int = SCHEMA_VERSION
    symbol: str
    as_of: date
    level: Literal["normal", "elevated", "high"]
    previous: Literal["normal", "elevated", "high"] | None = None
    interval_scale: float
    var_95: float
    rules: list[RiskRule]
    model_version: str
    request_id: str  # the request whose forecast first saw it
    message: str


class ServedForecast(BaseModel):
    """What the metrics sink records of one served request: the internal `forecast.ledger`
    topic carries one per request, whatever its source, so that no row waits in memory."""

    schema_version: int = SCHEMA_VERSION
    request: ForecastRequest
    result: ForecastResult
    source: Literal["kafka", "http"]
    last_close: float | None = None
