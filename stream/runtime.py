"""What agents and views share inside one worker: the model service, PostgreSQL, Redis.

Opened once, on first use, so that agents and views never race the startup order.
"""
import asyncio
import logging
import time
from dataclasses import dataclass

import asyncpg
import redis.asyncio as redis

from features.cross_asset import Context
from features.window import BarWindow
from inference.models import load_forecaster, load_regime
from inference.results import error_result
from inference.service import ForecastService, Outcome
from persistence.cache import ForecastCache, RateLimiter, cache_key
from persistence.migrate import migrate
from persistence.sink import MetricsSink
from schemas import ForecastRequest
from stream import metrics
from stream.registry import serving
from stream.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    service: ForecastService
    pool: asyncpg.Pool
    redis: redis.Redis
    sink: MetricsSink
    cache: ForecastCache
    limiter: RateLimiter

    @classmethod
    async def open(cls, settings: Settings) -> "Runtime":
        p = settings.persistence
        inference = await serving(p.database_url, settings.inference)
        forecaster = load_forecaster(inference)
        pool = await asyncpg.create_pool(p.database_url, min_size=p.pool_min, max_size=p.pool_max)
        async with pool.acquire() as conn:
            applied = await migrate(conn)
        if applied:
            log.info("applied migrations %s", applied)
        client = redis.Redis(host=p.redis_host, port=p.redis_port, db=p.redis_db)
        await client.ping()
        return cls(settings=settings,
                   service=ForecastService(forecaster, inference, metrics.observe_batch,
                                           load_regime(inference)),
                   pool=pool, redis=client, sink=MetricsSink(pool, p.sink_flush_rows),
                   cache=ForecastCache(client, p.cache_ttl_s),
                   limiter=RateLimiter(client, p.rate_limits, p.default_tier))

    async def close(self) -> None:
        await self.sink.flush()
        await self.pool.close()
        await self.redis.aclose()

    async def serve(self, request: ForecastRequest, request_id: str, window: BarWindow | None,
                    context: Context, source: str, received: float) -> Outcome:
        """Rate limit, cache, model, audit: the same steps for Kafka and HTTP. A failure
        inside them (the model, Redis) becomes an error result for this request only:
        the agent goes on with the next one."""
        def failed(code: str, message: str) -> Outcome:
            return Outcome(error_result(
                request=request, request_id=request_id, model_version=self.service.model_version,
                code=code, message=message, latency_ms=(time.perf_counter() - received) * 1000))

        try:
            allowed, limit = await self.limiter.allow(request.user_id)
            if not allowed:
                outcome = failed("rate_limited", f"user {request.user_id} is over {limit} requests/min")
            else:
                outcome = await self._forecast(request, request_id, window, context, received)
        except Exception as e:  # noqa: BLE001 - reported in the result and the log, never swallowed
            log.exception("request %s failed", request_id)
            outcome = failed("internal_error", f"{type(e).__name__}: {e}")
        last_close = float(window.close[-1]) if window is not None and len(window) else None
        if self.sink.add(request, outcome.result, last_close, source):
            await self.flush()
        metrics.requests_total.labels(source=source, status=outcome.result.status).inc()
        metrics.request_latency.labels(source=source).observe(time.perf_counter() - received)
        return outcome

    async def _forecast(self, request, request_id, window, context, received) -> Outcome:
        key = None
        if window is not None and len(window):
            key = cache_key(self.service.model_version, request,
                            window.to_bytes() + context.fingerprint())
            cached = await self.cache.get(key)
            if cached is not None:
                metrics.cache_hits.inc()
                latency = (time.perf_counter() - received) * 1000
                return Outcome(cached.model_copy(update={"request_id": request_id,
                                                         "latency_ms": latency}))
        outcome = await self.service.forecast(request, request_id, window, context, received)
        if key is not None and outcome.result.status == "ok":
            await self.cache.put(key, outcome.result)
        return outcome

    async def flush(self) -> None:
        try:
            metrics.sink_rows_total.inc(await self.sink.flush())
        except (OSError, asyncpg.PostgresError):
            metrics.sink_errors_total.inc()


_runtime: Runtime | None = None
_lock = asyncio.Lock()


async def get_runtime(settings: Settings) -> Runtime:
    global _runtime
    async with _lock:
        if _runtime is None:
            _runtime = await Runtime.open(settings)
    return _runtime


def current_runtime() -> Runtime | None:
    return _runtime


async def close_runtime() -> None:
    global _runtime
    async with _lock:
        if _runtime is not None:
            await _runtime.close()
            _runtime = None
