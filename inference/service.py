"""Requests in, results out: the one path that Kafka and HTTP requests both take."""
import time
from collections.abc import Callable
from dataclasses import dataclass

from features.cross_asset import MARKET, Context
from features.window import BarWindow
from inference.batcher import MicroBatcher
from inference.config import InferenceConfig
from inference.distribution import Distribution
from inference.greeks import risk_free_rate
from inference.models import Forecaster
from inference.results import error_result, ok_result
from inference.risk import assess
from regime.hmm import VOL_WINDOW, RegimeModel
from schemas import ForecastRequest, ForecastResult, RegimeInfo, RiskEvent


@dataclass(frozen=True)
class Outcome:
    result: ForecastResult
    risk_events: tuple[RiskEvent, ...] = ()


class ForecastService:
    def __init__(self, forecaster: Forecaster, config: InferenceConfig,
                 on_batch: Callable[[int, float], None] | None = None,
                 regime: RegimeModel | None = None):
        self.forecaster = forecaster
        self.config = config
        self.regime = regime
        self.batcher: MicroBatcher[tuple[BarWindow, Context], Distribution] = MicroBatcher(
            forecaster.predict, config.max_batch, config.max_wait_ms / 1000, on_batch)

    def market_regime(self, context: Context) -> RegimeInfo | None:
        """The market's regime from the SPY series of the context, when both are there."""
        if self.regime is None or MARKET not in context.series:
            return None
        _, close = context.series[MARKET]
        if len(close) <= VOL_WINDOW + 1:
            return None
        probs = self.regime.probabilities(close)
        name = max(probs, key=probs.get)
        return RegimeInfo(name=name, confidence=probs[name], probabilities=probs)

    @property
    def model_version(self) -> str:
        return self.forecaster.version

    async def forecast(self, request: ForecastRequest, request_id: str, window: BarWindow | None,
                       context: Context, received: float | None = None) -> Outcome:
        """`received` is the perf_counter() time the request arrived, for the latency figure."""
        received = time.perf_counter() if received is None else received

        def elapsed_ms() -> float:
            return (time.perf_counter() - received) * 1000

        common = dict(request=request, request_id=request_id, model_version=self.model_version)
        if window is None or len(window) == 0:
            return Outcome(error_result(**common, code="unknown_symbol", latency_ms=elapsed_ms(),
                                        message=f"no bars have been received for {request.symbol}"))
        if len(window) < self.forecaster.min_history:
            return Outcome(error_result(
                **common, code="insufficient_history", as_of=window.last_date, latency_ms=elapsed_ms(),
                message=f"{request.symbol} has {len(window)} bars; the model needs "
                        f"{self.forecaster.min_history}"))
        dist = await self.batcher.submit((window, context))
        risk = assess(window, dist, self.config) if request.risk_adjustment else None
        if risk is not None:
            dist = dist.widened(risk.scale)
        result = ok_result(**common, as_of=window.last_date, last_close=float(window.close[-1]),
                           dist=dist, risk=risk, regime=self.market_regime(context),
                           rate=risk_free_rate(context), latency_ms=elapsed_ms())
        events = ()
        if risk is not None and risk.alert:
            events = (RiskEvent(
                request_id=request_id, symbol=request.symbol, as_of=window.last_date,
                kind="vol_spike", value=risk.vol_ratio, threshold=self.config.risk_vol_ratio_alert,
                message=f"{self.config.risk_short_window}-day realized volatility is "
                        f"{risk.vol_ratio:.2f}x its {self.config.risk_long_window}-day level; "
                        f"intervals widened {risk.scale:.2f}x"),)
        return Outcome(result, events)
