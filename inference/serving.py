"""The serving steps every request takes, Kafka or HTTP: admit (rate limit, or recognise
a request answered before), forecast, shape, remember. Broker-free: `stream/` wires it
to the topics, and `persistence.cache` gives it Redis behind the `Gate` interface.

A request answered before (a redelivery after a crash) is answered the same way: its
receipt keeps the status and latency it was first given, and its forecast comes from
the same base (held here, or shared in Redis), so a duplicate on the results topic
carries the same content as the first.
"""
import logging
import time
from dataclasses import asdict, dataclass
from typing import Protocol

import orjson

from features.cross_asset import Context
from features.window import BarWindow
from inference.service import ForecastService, Outcome
from schemas import ForecastRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ask:
    request: ForecastRequest
    request_id: str
    window: BarWindow | None
    context: Context
    received: float  # time.monotonic() when the request reached the worker


@dataclass(frozen=True)
class Receipt:
    """How a request was answered: enough to answer a redelivery identically."""

    latency_ms: float
    code: str | None = None  # the error code; None for a forecast
    message: str | None = None
    retry_after_s: float | None = None

    @classmethod
    def of(cls, result) -> "Receipt":
        e = result.error
        return cls(result.latency_ms, *((e.code, e.message, e.retry_after_s) if e else ()))

    def to_bytes(self) -> bytes:
        return orjson.dumps({k: v for k, v in asdict(self).items() if v is not None})

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Receipt":
        return cls(**orjson.loads(raw))


@dataclass(frozen=True)
class Admission:
    allowed: bool
    limit: int = 0  # requests per minute of the user's tier, 0 for unlimited
    retry_after_s: float = 0.0
    receipt: Receipt | None = None  # set when this request id was answered before


class Gate(Protocol):
    """Rate limits and receipts, shared by workers (persistence.cache.RedisGate)."""

    async def admit(self, asks: list[tuple[str, str]]) -> list[tuple[bool, int, float, bytes | None]]:
        """(user, request id) -> (allowed, limit per minute, retry after s, receipt bytes or None)."""

    async def remember(self, receipts: list[tuple[str, bytes]]) -> None: ...


class Serving:
    def __init__(self, service: ForecastService, gate: Gate):
        self.service = service
        self.gate = gate

    async def serve(self, asks: list[Ask]) -> list[Outcome]:
        """One outcome per ask, in order. A failure (the model, a bad window) becomes an
        error result for the asks it touches; it never escapes to the agent."""
        svc = self.service
        admissions = [Admission(allowed, limit, wait, receipt and Receipt.from_bytes(receipt))
                      for allowed, limit, wait, receipt in await self.gate.admit(
                          [(a.request.user_id, a.request_id) for a in asks])]
        outcomes: list[Outcome | None] = [None] * len(asks)
        latency = lambda a, r: r.latency_ms if r else (time.monotonic() - a.received) * 1000
        to_forecast = []
        for i, (ask, adm) in enumerate(zip(asks, admissions, strict=True)):
            r = adm.receipt
            if r is not None and r.code is not None:
                outcomes[i] = svc.failed(ask.request, ask.request_id, r.code, r.message or "", r.latency_ms,
                                         retry_after_s=r.retry_after_s)
            elif r is None and not adm.allowed:
                outcomes[i] = svc.failed(
                    ask.request, ask.request_id, "rate_limited", latency_ms=latency(ask, None),
                    message=f"user {ask.request.user_id} is over {adm.limit} requests/min",
                    retry_after_s=round(adm.retry_after_s, 3))
            elif (refused := svc.refusal(ask.request, ask.window)) is not None:
                w = ask.window
                outcomes[i] = svc.failed(ask.request, ask.request_id, *refused, latency_ms=latency(ask, r),
                                         as_of=w.last_date if w is not None and len(w) else None)
            else:
                to_forecast.append(i)
        if to_forecast:
            try:
                bases = await svc.bases([(asks[i].window, asks[i].context) for i in to_forecast])
            except Exception as e:  # noqa: BLE001 - reported in the results and the log
                log.exception("forecast of %d requests failed", len(to_forecast))
                for i in to_forecast:
                    outcomes[i] = svc.failed(asks[i].request, asks[i].request_id, "internal_error",
                                             f"{type(e).__name__}: {e}", latency(asks[i], admissions[i].receipt))
            else:
                for i, base in zip(to_forecast, bases, strict=True):
                    ask, lat = asks[i], latency(asks[i], admissions[i].receipt)
                    if isinstance(base, Exception):
                        log.error("forecast of %s failed: %s", ask.request.symbol, base, exc_info=base)
                        outcomes[i] = svc.failed(ask.request, ask.request_id, "internal_error",
                                                 f"{type(base).__name__}: {base}", lat)
                    else:
                        outcomes[i] = self._shaped(ask, base, lat)
        if told := [e for o in outcomes for e in o.risk_events]:
            await svc.told.tell(told)
        fresh = [(a.request_id, Receipt.of(o.result).to_bytes())
                 for a, o, adm in zip(asks, outcomes, admissions) if adm.receipt is None]
        await self.gate.remember(fresh)
        return outcomes  # type: ignore[return-value]

    def _shaped(self, ask: Ask, base, latency_ms: float) -> Outcome:
        try:
            return self.service.shape(ask.request, ask.request_id, base, latency_ms)
        except Exception as e:  # noqa: BLE001
            log.exception("request %s could not be shaped", ask.request_id)
            return self.service.failed(ask.request, ask.request_id, "internal_error",
                                       f"{type(e).__name__}: {e}", latency_ms)
