"""A book's forecast: what is asked (POST /forecast/portfolio, or the same body on
forecast.requests) and what comes back (its answer, on forecast.results with the
request id)."""
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from schemas.events import HORIZONS, SCHEMA_VERSION, Event, Name, Symbol, _finite, check_horizons
from schemas.results import DISCLAIMER, ErrorInfo, ForecastResult

MAX_BOOK_SYMBOLS = 500
PORTFOLIO_EXAMPLE = {"request_id": "book-6040", "weights": {"SPY": 0.6, "TLT": 0.4}, "forecast_horizons": [1, 5, 21],
                     "levels": [0.95, 0.99], "user_id": "risk-desk"}
# A fraction of the book's value; past 100 (10,000% leverage in one name) it is a unit mistake.
Weight = Annotated[float, AfterValidator(_finite), Field(ge=-100, le=100)]
# The default model's own answer for the book above on 2023-12-29 (its members left out here).
PORTFOLIO_RESULT_EXAMPLE = {
    "kind": "portfolio", "request_id": "book-6040", "status": "ok", "as_of": "2023-12-29",
    "model_version": "tft-2023-12-29-9ff39c2", "weights": {"SPY": 0.6, "TLT": 0.4},
    "horizons": [{"horizon": 1,
                  "quantiles": {"0.1": -0.00835, "0.25": -0.00403, "0.5": 0.00085, "0.75": 0.0054, "0.9": 0.00977},
                  "mean": 0.00071,
                  "volatility": 0.00719,
                  "value_at_risk": {"0.95": 0.01131, "0.99": 0.01648},
                  "expected_shortfall": {"0.95": 0.01457, "0.99": 0.01924},
                  "contributions": {"0.95": {"SPY": 0.00486, "TLT": 0.00645}, "0.99": {"SPY": 0.00735, "TLT": 0.00913}}},
                 {"horizon": 5,
                  "quantiles": {"0.1": -0.02185, "0.25": -0.0101, "0.5": 0.00298, "0.75": 0.01498, "0.9": 0.02595},
                  "mean": 0.00239,
                  "volatility": 0.0189,
                  "value_at_risk": {"0.95": 0.02949, "0.99": 0.04292},
                  "expected_shortfall": {"0.95": 0.03827, "0.99": 0.05066},
                  "contributions": {"0.95": {"SPY": 0.01255, "TLT": 0.01694}, "0.99": {"SPY": 0.01974, "TLT": 0.02318}}},
                 {"horizon": 21,
                  "quantiles": {"0.1": -0.04831, "0.25": -0.02161, "0.5": 0.0055, "0.75": 0.03387, "0.9": 0.05639},
                  "mean": 0.00448,
                  "volatility": 0.04116,
                  "value_at_risk": {"0.95": 0.06682, "0.99": 0.10117},
                  "expected_shortfall": {"0.95": 0.08777, "0.99": 0.11759},
                  "contributions": {"0.95": {"SPY": 0.02931, "TLT": 0.03751}, "0.99": {"SPY": 0.04606, "TLT": 0.05511}}}],
    "dependence": {"family": "t", "dof": 30.0, "as_of": "2023-12-29", "halflife_sessions": 126.0,
                   "model_version": "tft-2023-12-29-9ff39c2", "uncovered": []},
    "members": [], "latency_ms": 61.2,
}


class PortfolioRequest(Event):
    """A book as each symbol's weight in its value (negative: short). Its members are
    forecast as a batch's are (rate limits and audit count each), then joined."""

    request_id: Name | None = None
    user_id: Name = "anonymous"
    weights: Annotated[dict[Symbol, Weight], Field(min_length=1, max_length=MAX_BOOK_SYMBOLS)]
    forecast_horizons: Annotated[list[int], Field(min_length=1, max_length=len(HORIZONS), json_schema_extra={
        "items": {"type": "integer", "enum": list(HORIZONS)}, "uniqueItems": True})] = [1, 5, 21]
    levels: Annotated[list[float], Field(min_length=1, max_length=4, json_schema_extra={
        "items": {"type": "number", "minimum": 0.5, "exclusiveMaximum": 1}})] = [0.95, 0.99]
    risk_adjustment: bool = True

    @model_validator(mode="after")
    def _check(self) -> "PortfolioRequest":
        check_horizons(self.forecast_horizons)
        if bad := [c for c in self.levels if not 0.5 <= c < 1.0]:
            raise ValueError(f"levels must lie in [0.5, 1), got {bad}")
        if not any(self.weights.values()):
            raise ValueError("weights are all zero: there is no book")
        return self


class BookHorizon(BaseModel):
    horizon: int
    quantiles: dict[str, float]  # the book's simple return at QUANTILE_KEYS
    mean: float
    volatility: float
    value_at_risk: dict[str, float]  # level -> loss, a fraction of the book's value (positive: a loss)
    expected_shortfall: dict[str, float]  # level -> mean loss beyond the VaR
    contributions: dict[str, dict[str, float]]  # level -> symbol -> its Euler share of the VaR; they sum to it


class DependenceInfo(BaseModel):
    """The copula the members were joined by."""

    family: Literal["gaussian", "t", "independent"]
    dof: float | None = None  # the Student-t's degrees of freedom
    as_of: date | None = None  # the last outcome it was fitted on
    halflife_sessions: float | None = None
    model_version: str | None = None  # the model whose forecasts' outcomes it was fitted on
    uncovered: list[str] = []  # members it holds nothing for: uncorrelated with the rest


class PortfolioResult(BaseModel):
    schema_version: int = SCHEMA_VERSION
    kind: Literal["portfolio"] = "portfolio"  # on forecast.results beside single results, which have no kind
    request_id: str
    status: Literal["ok", "error"]
    as_of: date | None = None  # the latest of the members' last bars
    model_version: str
    weights: dict[str, float]
    horizons: list[BookHorizon] = []
    dependence: DependenceInfo | None = None
    members: list[ForecastResult] = []  # each symbol's own forecast, as it was served
    latency_ms: float = 0.0
    disclaimer: str = DISCLAIMER
    error: ErrorInfo | None = None
