"""One worker's runtime: the connections, the model host and readiness, built when the
worker starts (`tft-forecast worker`) and handed to every module that installs agents,
timers and views on the app (`install(rt)`). Nothing of it exists at import; tests
build their own.

It is opened by a task of the app as the worker starts (the schema migrated, Redis
pinged, the model loaded) and closed as it stops; agents and views wait for it rather
than open it. It holds connections and the decoded model, never data: windows live in
the tables, served forecasts in the ledger topic until PostgreSQL has them.
"""
import asyncio
import logging

import asyncpg
import faust
import redis.asyncio as redis

from inference.serving import Serving
from lifecycle.host import ModelHost, Wiring
from persistence.cache import Backoff, RedisGate, SharedValues
from persistence.migrate import migrate
from stream import metrics
from stream.delivery import Delivery
from stream.readiness import Readiness
from stream.regimes import Waiting
from stream.settings import Settings
from stream.tables import regime_of, surfaces

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, settings: Settings, app: faust.App):
        self.settings = settings
        self.app = app
        self.readiness = Readiness(self)
        self.regimes_waiting = Waiting()
        s = settings.stream
        self.delivery = Delivery(s.processing_guarantee, app.transactional_topics, settings.kafka_client(), s.app_id,
                                 s.producer_linger_ms)
        self._opened = asyncio.Event()
        self.pool: asyncpg.Pool | None = None
        self.redis: redis.Redis | None = None
        self.gate: RedisGate | None = None
        self.host: ModelHost | None = None
        self.redis_backoff = Backoff(settings.persistence.redis_retry_s)

    async def open(self) -> None:
        s, p = self.settings, self.settings.persistence
        self.pool = await asyncpg.create_pool(p.database_url, min_size=p.pool_min, max_size=p.pool_max)
        async with self.pool.acquire() as conn:
            if applied := await migrate(conn):
                log.info("applied migrations %s", applied)
        self.redis = redis.Redis(host=p.redis_host, port=p.redis_port, db=p.redis_db,
                                 socket_timeout=p.redis_timeout_s, socket_connect_timeout=p.redis_timeout_s)
        try:
            await self.redis.ping()
        except (redis.RedisError, OSError) as e:
            self.redis_backoff.failed("start", e)  # served without it until it answers
        shared = SharedValues(self.redis, "tft:dist:", p.cache_ttl_s, self.redis_backoff)
        self.gate = RedisGate(self.redis, p.rate_limits, p.default_tier, p.receipt_ttl_s, self.redis_backoff)
        self.host = ModelHost(s.inference, s.stream.window_bars, self.pool, Wiring(
            shared=shared, regime_of=regime_of, surface_of=surfaces.of, on_batch=metrics.observe_batch,
            on_cache=metrics.observe_cache, on_serving=metrics.serving,
            on_swap=lambda cached: metrics.model_swaps_total.labels(from_cache=str(cached).lower()).inc()))
        await self.host.open(p.database_url, self.gate)
        self._opened.set()
        log.info("serving model %s", self.host.service.model_version)

    @property
    def is_open(self) -> bool:
        return self._opened.is_set()

    async def opened(self) -> Serving:
        await self._opened.wait()
        return self.host.serving

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.redis is not None:
            await self.redis.aclose()


def install(rt: Runtime) -> None:
    """The runtime's own life on the app: opened at start, following the registry's
    active version, closed at shutdown."""
    app = rt.app

    @app.task
    async def open_runtime() -> None:
        await rt.open()

    @app.timer(interval=rt.settings.inference.model_check_s)
    async def follow_active_model() -> None:
        if not rt.is_open:
            return
        try:
            await rt.host.follow_registry()
        except Exception as e:  # noqa: BLE001 - the served model stays; said in the log each time
            log.error("cannot switch to the registry's active model: %s: %s", type(e).__name__, e)

    @app.on_before_shutdown.connect
    async def close_on_shutdown(app, **kwargs) -> None:
        await rt.close()
