"""HTTP bodies beside the forecast itself, and the examples the README and the OpenAPI
document share."""
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter

from schemas.events import HORIZONS, Name
from schemas.results import DISCLAIMER, ErrorInfo

API_KEY_HEADER = "X-API-Key"


class ErrorBody(BaseModel):
    """Any refusal that is not a forecast result: an invalid or oversized body, a missing
    key, a worker that is starting."""

    error: ErrorInfo


class Liveness(BaseModel):
    status: Literal["alive"]


class Readiness(BaseModel):
    ready: bool
    waiting_for: list[str]


class Health(BaseModel):
    status: Literal["ok", "degraded", "starting"]
    waiting_for: list[str]
    checks: dict[str, str]  # kafka, postgres, redis: "ok" or what is degraded


class FeatureWeight(BaseModel):
    feature: str
    feature_group: str
    importance: float


class FeatureImportance(BaseModel):
    symbol: str
    horizon: int
    model_version: str
    features: list[FeatureWeight]


class AccuracyRow(BaseModel):
    """Live accuracy of the served model at one horizon (and symbol or regime), each
    figure beside its baseline on the same forecasts (rw_: the random walk)."""

    horizon: int
    grp: str  # "all", the symbol, or the market regime the forecasts were made in
    n: int
    directional_accuracy: float
    up_rate: float  # the "always up" baseline's accuracy
    mape_pct: float
    rw_mape_pct: float
    rmse: float  # of the point's log return
    rw_rmse: float
    pinball: float  # mean over the quantiles, on log returns
    rw_pinball: float
    coverage_68: float
    rw_coverage_68: float
    coverage_95: float
    rw_coverage_95: float


class LiveAccuracy(BaseModel):
    by: Literal["all", "symbol", "regime"]
    rows: list[AccuracyRow]


class Shadow(BaseModel):
    """The served version beside its predecessor, scored in shadow on the same forecasts:
    what an automatic rollback decides on."""

    version: str  # the predecessor
    n: int
    pinball: float | None
    shadow_pinball: float | None
    coverage_68: float | None
    shadow_coverage_68: float | None
    coverage_95: float | None
    shadow_coverage_95: float | None
    rollback_after_n: int  # ROLLBACK_MIN_N
    rollback_margin: float  # ROLLBACK_MARGIN


class ModelStatus(BaseModel):
    model_version: str
    min_history: int
    max_batch: int
    max_wait_ms: float
    window_bars: int
    model: dict  # kind, artifact, training and validation ranges, interval calibration
    live_accuracy: LiveAccuracy
    shadow: Shadow | None  # None while the served version replaced none that is loaded
    versions: list[dict]  # the registry, newest first: status, promoted when and by whom, why, the gate


class TierChange(BaseModel):
    """PUT /users/{user_id}/tier: the rate-limit tier a user is counted under."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    tier: Name


class PromoteCommand(BaseModel):
    """POST /model/promote: a registered version, through the validation gate unless forced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    version: Name
    reason: Name = "asked over HTTP"
    force: bool = False


class RollbackCommand(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    reason: Name


class Promotion(BaseModel):
    version: str
    promoted: bool
    replaced: str | None = None
    reason: str
    gate: dict | None = None  # per horizon: candidate, active and random walk on the same rows


class Rollback(BaseModel):
    retired: str
    active: str


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued"]
    follow: str


class Job(BaseModel):
    job_id: str
    command: dict
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: float
    message: str | None = None
    version: str | None = None  # the candidate it trained
    promoted: bool | None = None
    created_at: datetime
    updated_at: datetime


USER_ID = TypeAdapter(Name)  # the user of a path, checked as a request's user_id is


class TierSet(BaseModel):
    user_id: str
    tier: str
    limit_per_minute: int  # 0: unlimited


REQUEST_EXAMPLE = {"request_id": "abc", "user_id": "user123", "symbol": "SPY",
                   "forecast_horizons": list(HORIZONS), "include_options_greeks": True,
                   "risk_adjustment": True, "confidence_intervals": [0.68, 0.95]}
BATCH_EXAMPLE = {"batch_id": "open-2024-01-02", "user_id": "user123", "symbols": ["SPY", "QQQ", "AAPL"],
                 "forecast_horizons": [1, 5]}
# A real one from `make run`, shortened to one horizon.
RESULT_EXAMPLE = {
    "schema_version": 1, "request_id": "abc", "symbol": "SPY", "as_of": "2023-12-29", "last_close": 475.31,
    "model_version": "tft-2023-12-29-052adec", "status": "ok",
    "forecasts": [{"horizon": 5, "point": 463.50,
                   "quantiles": {"0.1": 452.32, "0.25": 458.12, "0.5": 463.77, "0.75": 468.35, "0.9": 472.72},
                   "intervals": {"0.68": [455.05, 470.65], "0.95": [445.94, 477.64]},
                   "volatility": 0.0209, "prob_up": 0.561}],
    "regime": {"name": "Sideways", "confidence": 0.9995,
               "probabilities": {"Bull": 0.0, "Bear": 0.0005, "Sideways": 0.9995, "Crisis": 0.0}},
    "risk": {"level": "normal", "interval_scale": 1.0, "var_95": 0.0141, "raw_var_95": 0.0141,
             "rules": [{"name": "drawdown", "value": 1.0, "factor": 1.0, "applied": True,
                        "reason": "the price is 0% below its 252-session high"}]},
    "latency_ms": 57.7, "disclaimer": DISCLAIMER,
}
