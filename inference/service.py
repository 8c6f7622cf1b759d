"""Requests in, results out: the one path that Kafka and HTTP requests both take.

A symbol's forecast distribution depends only on its window, the cross-asset context
and the model, so it is computed once per (window, context, model) and kept as a
`Base` until one of them changes: on the first request after a new bar, not on the
bar, because most bars of a universe are never asked about before the next one (a
replay, the context series). Each request is then shaped from its symbol's base
(horizons, intervals, risk widening, greeks), which is cheap.

Windows and contexts are compared by identity: the stream layer hands over the same
decoded object for as long as the stored bytes are unchanged.
"""
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np
import orjson

from features.cross_asset import MARKET, Context
from features.window import BarWindow
from inference.batcher import MicroBatcher
from inference.config import InferenceConfig
from inference.dependence import Dependence
from features.quality import window_problem
from inference.distribution import Distribution
from inference.greeks import risk_free_rate
from inference.models import Forecaster
from inference.results import error_result, ok_result
from inference.risk import RiskAssessment, assess, rule_infos
from inference.surface import Surface
from regime.book import RegimeBook
from schemas import AttentionWeights, ForecastRequest, ForecastResult, RegimeInfo, RiskEvent


@dataclass(frozen=True)
class Outcome:
    result: ForecastResult
    risk_events: tuple[RiskEvent, ...] = ()


@dataclass(frozen=True)
class Base:
    """A symbol's forecast before any request shapes it, and the answers already shaped
    from it by the options that shaped them (most requests ask alike)."""

    window: BarWindow
    context: Context
    dist: Distribution
    risk: RiskAssessment
    regime: RegimeInfo | None  # the market's
    symbol_regime: RegimeInfo | None
    rate: float
    shaped: dict = field(default_factory=dict, compare=False)
    # The risk level before this base's, while its change is still to be told: the first
    # request shaped from it carries the risk event (and empties this).
    untold: list = field(default_factory=list, compare=False)

    @property
    def as_of(self) -> date:
        return self.window.last_date

    @property
    def last_close(self) -> float:
        return float(self.window.close[-1])


class SharedForecasts(Protocol):
    """Encoded distributions shared between workers (persistence.cache.SharedValues)."""

    async def get_many(self, keys: list[str]) -> list[bytes | None]: ...

    async def put_many(self, items: list[tuple[str, bytes]]) -> bool:
        """True when stored."""


class ToldLevels(Protocol):
    """The risk level last told on risk.events per symbol (lifecycle.host keeps it in
    PostgreSQL, so that a worker that restarts, or a partition that moves, tells a change
    once)."""

    async def told(self, symbols: list[str]) -> dict[str, str]:
        """symbol -> its last told level; symbols never told are absent."""

    async def tell(self, events: Sequence[RiskEvent]) -> None: ...


class HeldLevels:
    """Told levels held by this process alone: for a service with no database (research,
    tests); a restart forgets them."""

    def __init__(self):
        self.levels: dict[str, str] = {}

    async def told(self, symbols: list[str]) -> dict[str, str]:
        return {s: self.levels[s] for s in symbols if s in self.levels}

    async def tell(self, events: Sequence[RiskEvent]) -> None:
        self.levels |= {e.symbol: e.level for e in events}


def inputs_key(model_version: str, window: BarWindow, context: Context) -> str:
    return f"{model_version}:{window.symbol}:{context.digest(window.to_bytes())}"


class ForecastService:
    def __init__(self, forecaster: Forecaster, config: InferenceConfig,
                 on_batch: Callable[[int, float], None] | None = None,
                 regime: RegimeBook | None = None, shared: SharedForecasts | None = None,
                 regime_of: Callable[[str], RegimeInfo | None] | None = None,
                 surface_of: Callable[[str], Surface | None] = lambda symbol: None,
                 on_cache: Callable[[str, int], None] = lambda where, n: None,
                 scales_of: Callable[[str], tuple[int, dict]] = lambda version: (0, {}),
                 told: ToldLevels | None = None):
        """`regime_of`: where symbols' regimes are kept as their bars arrive (the stream's
        table of them); without it they are read from the windows here. `surface_of`: each
        symbol's latest option surface, the same object while it is unchanged. `on_cache(where,
        n)`: n distributions were found held by this worker ("worker"), shared by another
        ("shared"), or not found and computed ("miss"). `scales_of(version)`: (generation,
        horizon -> log interval scales) learnt online for the version (inference/conformal.py).
        `told`: the risk level last told per symbol, which a new base's level is compared with."""
        self.forecaster = forecaster
        self.config = config
        self.regime = regime
        self.regime_of = regime_of
        self.surface_of = surface_of
        self.on_cache = on_cache
        self.scales_of = scales_of
        self.shared = shared
        self.told = told or HeldLevels()
        self._bases: dict[str, Base] = {}  # symbol -> its latest base
        # Bases computed while the shared store was away, to share once it is back: a
        # restarted worker must find the distribution rather than compute it again in
        # another batch, which can differ in the last bits.
        self._unshared: dict[str, tuple[str, Distribution]] = {}
        self._checked: dict[str, tuple[BarWindow, str | None]] = {}  # symbol -> (window, its problem)
        self.batcher: MicroBatcher[tuple[BarWindow, Context], Distribution] = MicroBatcher(
            forecaster.predict, config.max_batch, config.max_wait_ms / 1000, on_batch)
        self.computed = 0  # distributions computed by the model, not found: for tests and metrics
        self._market: tuple[np.ndarray, RegimeInfo | None] | None = None  # (SPY closes read, their regime)
        self.dependence: Dependence | None = None  # the copula books are joined by, fitted beside the model

    @property
    def model_version(self) -> str:
        return self.forecaster.version

    def market_regime(self, context: Context) -> RegimeInfo | None:
        """The market's regime: SPY's, from the SPY series of the context; read once per
        series object (a new SPY bar is a new one)."""
        if self.regime is None:
            return None
        if self.regime_of is not None:
            return self.regime_of(MARKET)
        if MARKET not in context.series:
            return None
        days, close = context.series[MARKET]
        if self._market is None or self._market[0] is not close:
            self._market = (close, self.regime.current(MARKET, days, close, context))
        return self._market[1]

    def symbol_regime(self, window: BarWindow, context: Context) -> RegimeInfo | None:
        if self.regime is None:
            return None
        if self.regime_of is not None:
            return self.regime_of(window.symbol)
        return self.regime.current(window.symbol, window.dates, window.close, context)

    def _held(self, window: BarWindow, context: Context) -> Base | None:
        base = self._bases.get(window.symbol)
        if base is not None and base.window is window and base.context is context:
            return base
        return None

    async def _computed(self, items: list[tuple[BarWindow, Context]]) -> list[Distribution | Exception]:
        """The model's distributions; when a pass fails, each item is scored alone, so
        that one input the model cannot take fails only its own requests."""
        try:
            # One alone waits a moment for company (concurrent HTTP requests); a
            # consumed batch is all there is, and is scored at once.
            if len(items) == 1:
                return [await self.batcher.submit(items[0])]
            return await self.batcher.submit_many(items)
        except Exception as e:  # noqa: BLE001 - returned per item, reported by the caller
            if len(items) == 1:
                return [e]
        out = []
        for item in items:
            try:
                out.append(await self.batcher.submit(item))
            except Exception as e:  # noqa: BLE001
                out.append(e)
        return out

    async def bases(self, pairs: Sequence[tuple[BarWindow, Context]]) -> list[Base | Exception]:
        """The base of each (window, context): held, shared by another worker, or computed,
        all that need the model in one forward pass; the model's error where it failed."""
        out: list[Base | None] = [self._held(w, c) for w, c in pairs]
        todo: dict[tuple, int] = {}  # distinct inputs -> the first pair that has them
        for i, base in enumerate(out):
            if base is None:
                w, c = pairs[i]
                todo.setdefault((w.symbol, id(w), id(c)), i)
        self.on_cache("worker", len(pairs) - len(todo))
        if todo:
            idx = list(todo.values())
            keys = [inputs_key(self.model_version, *pairs[i]) for i in idx]
            found = [None if raw is None else distribution_from_bytes(raw)
                     for raw in await self.shared.get_many(keys)] if self.shared else [None] * len(idx)
            missing = [j for j, d in enumerate(found) if d is None]
            self.on_cache("shared", len(idx) - len(missing))
            self.on_cache("miss", len(missing))
            if missing:
                computed = await self._computed([pairs[idx[j]] for j in missing])
                self.computed += len(computed)
                for j, dist in zip(missing, computed, strict=True):
                    found[j] = dist
                for j in missing:
                    if not isinstance(found[j], Exception):
                        self._unshared[pairs[idx[j]][0].symbol] = (keys[j], found[j])
            made = {}
            told = await self.told.told([pairs[i][0].symbol for i, d in zip(idx, found)
                                         if not isinstance(d, Exception)])
            for key, i, dist in zip(todo, idx, found, strict=True):
                window, context = pairs[i]
                if isinstance(dist, Exception):
                    made[key] = dist
                    continue
                own = self.symbol_regime(window, context)
                risk = assess(window, context, own, dist, self.config)
                made[key] = self._bases[window.symbol] = base = Base(
                    window, context, dist, risk, self.market_regime(context), own, risk_free_rate(context))
                before = told.get(window.symbol)
                if risk.level != (before or "normal"):
                    base.untold.append(before)
            out = [b or made[(w.symbol, id(w), id(c))] for b, (w, c) in zip(out, pairs)]
        if self._unshared and self.shared:
            items = list(self._unshared.items())
            if await self.shared.put_many([(key, distribution_to_bytes(d)) for _, (key, d) in items]):
                for symbol, _ in items:
                    self._unshared.pop(symbol, None)
        return out  # type: ignore[return-value]

    def refusal(self, request: ForecastRequest, window: BarWindow | None) -> tuple[str, str] | None:
        """(code, message) when this request cannot be forecast from this window."""
        if window is None or len(window) == 0:
            return "unknown_symbol", f"no bars have been received for {request.symbol}"
        if len(window) < self.forecaster.min_history:
            return ("insufficient_history", f"{request.symbol} has {len(window)} bars; the model "
                                            f"needs {self.forecaster.min_history}")
        checked = self._checked.get(window.symbol)
        if checked is None or checked[0] is not window:
            checked = self._checked[window.symbol] = (window, window_problem(window))
        if checked[1] is not None:
            return "bad_data", f"{request.symbol}: {checked[1]}; a corrected bar for that day replaces it"
        return None

    def shape(self, request: ForecastRequest, request_id: str, base: Base, latency_ms: float) -> Outcome:
        """One request's answer from its symbol's base."""
        surface = self.surface_of(request.symbol) if request.include_options_greeks else None
        generation, scales = self.scales_of(self.model_version)
        options = (tuple(request.forecast_horizons), tuple(request.confidence_intervals), request.risk_adjustment,
                   request.include_options_greeks, request.include_attention, surface, generation)
        template = base.shaped.get(options)
        if template is None:
            template = base.shaped[options] = self._shape(request, base, surface, scales)
        events = (self._risk_event(base, base.untold.pop(), request_id),) if base.untold else ()
        return Outcome(template.model_copy(update={"request_id": request_id, "latency_ms": latency_ms,
                                                   "batch_id": request.batch_id}), events)

    def _risk_event(self, base: Base, before: str | None, request_id: str) -> RiskEvent:
        r = base.risk
        widened = [x for x in r.rules if x.applied and x.factor > 1]
        why = "; ".join(x.reason for x in widened) or "no rule widens it"
        return RiskEvent(symbol=base.window.symbol, as_of=base.as_of, level=r.level, previous=before,
                         interval_scale=r.scale, var_95=r.var_95, rules=rule_infos(r), model_version=self.model_version,
                         request_id=request_id,
                         message=f"{base.window.symbol} risk is {r.level} (was {before or 'unknown'}): "
                                 f"intervals widened {r.scale:.2f}x; {why}")

    def _shape(self, request: ForecastRequest, base: Base, surface: Surface | None, scales: dict) -> ForecastResult:
        request_id, latency_ms = "", 0.0  # each request's own, set by shape()
        dist, risk = base.dist, base.risk if request.risk_adjustment else None
        if risk is not None:
            dist = dist.widened(risk.scale)
        result = ok_result(request=request, request_id=request_id, model_version=self.model_version,
                           as_of=base.as_of, last_close=base.last_close, dist=dist, risk=risk,
                           regime=base.regime, symbol_regime=base.symbol_regime, rate=base.rate,
                           latency_ms=latency_ms, surface=surface, scales=scales,
                           attention=attention_weights(dist.select(request.forecast_horizons), base.window,
                                                       self.forecaster.input_names)
                           if request.include_attention else None)
        return result

    def failed(self, request: ForecastRequest, request_id: str, code: str, message: str,
               latency_ms: float, as_of: date | None = None, retry_after_s: float | None = None) -> Outcome:
        return Outcome(error_result(request=request, request_id=request_id, as_of=as_of,
                                    model_version=self.model_version, code=code, message=message,
                                    latency_ms=latency_ms, retry_after_s=retry_after_s))

    async def forecast(self, request: ForecastRequest, request_id: str, window: BarWindow | None,
                       context: Context, received: float | None = None) -> Outcome:
        """One request; `received` is its time.monotonic() arrival, for the latency figure."""
        received = time.monotonic() if received is None else received
        elapsed = lambda: (time.monotonic() - received) * 1000
        refused = self.refusal(request, window)
        if refused is not None:
            as_of = window.last_date if window is not None and len(window) else None
            return self.failed(request, request_id, *refused, latency_ms=elapsed(), as_of=as_of)
        (base,) = await self.bases([(window, context)])
        if isinstance(base, Exception):
            return self.failed(request, request_id, "internal_error", f"{type(base).__name__}: {base}", elapsed())
        outcome = self.shape(request, request_id, base, elapsed())
        if outcome.risk_events:
            await self.told.tell(outcome.risk_events)
        return outcome


_ARRAYS = ("quantiles", "point", "volatility", "prob_up", "temporal", "selection")


def attention_weights(dist: Distribution, window: BarWindow, names: tuple[str, ...]) -> AttentionWeights | None:
    """The attention and selection weights of the pass that made `dist`, by encoder day and
    by input; None for a model that has none."""
    if dist.temporal is None or dist.selection is None:
        return None
    days = [str(d) for d in window.dates[-dist.temporal.shape[1]:]]
    return AttentionWeights(
        temporal_attention={str(h): dict(zip(days, map(float, row))) for h, row in zip(dist.horizons, dist.temporal)},
        feature_attention=dict(zip(names, map(float, dist.selection))))


def distribution_to_bytes(d: Distribution) -> bytes:
    return orjson.dumps({"horizons": d.horizons, **{k: getattr(d, k) for k in _ARRAYS}},
                        option=orjson.OPT_SERIALIZE_NUMPY)


def distribution_from_bytes(raw: bytes) -> Distribution:
    """Exact: orjson writes the shortest repr that reads back as the same float64."""
    d = orjson.loads(raw)
    return Distribution(tuple(d["horizons"]), *(None if d.get(k) is None else np.asarray(d[k], dtype=np.float64)
                                                for k in _ARRAYS))
