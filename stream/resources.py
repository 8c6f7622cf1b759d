"""What agents and views share inside one worker: the serving steps, PostgreSQL, Redis.

Opened once when the worker starts (the model loaded, the schema migrated, Redis
pinged) and closed when it stops; agents and views wait for it rather than open it.
It holds connections and the decoded model, never data: windows live in the tables,
served forecasts in the ledger topic until PostgreSQL has them.
"""
import asyncio
import logging
from collections import OrderedDict
from dataclasses import replace

import asyncpg
import numpy as np
import redis.asyncio as redis

from inference.config import InferenceConfig
from inference.models import Forecaster, check_contract, load_forecaster, load_regime
from inference.service import ForecastService
from inference.serving import Serving
from persistence.cache import Backoff, RedisGate, SharedValues
from persistence.migrate import migrate
from stream import metrics
from persistence.repositories.interval_scales import IntervalScalesRepository
from persistence.repositories.model_registry import ModelRegistryRepository, RegisteredModel
from stream.registry import serving, verified
from stream.settings import Settings
from stream.tables import regime_of, surfaces

log = logging.getLogger(__name__)


class Resources:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._opened = asyncio.Event()
        self.serving: Serving | None = None
        self.pool: asyncpg.Pool | None = None
        self.redis: redis.Redis | None = None
        self.gate: RedisGate | None = None
        # Versions served before, still loaded (MODEL_CACHE_SIZE counts the served one too).
        self._loaded: OrderedDict[str, ForecastService] = OrderedDict()
        # The version the active one replaced, scored in shadow (stream/validation.py)
        # for as long as it is: what an automatic rollback compares with.
        self.shadow: Forecaster | None = None
        self.redis_backoff = Backoff(settings.persistence.redis_retry_s)
        # The served version's adaptive interval scales (stream/validation.py), and a
        # generation that changes with them, so that answers shaped before are shaped again.
        self.scales: tuple[int, str, dict] = (0, "", {})

    async def open(self) -> None:
        s, p = self.settings, self.settings.persistence
        inference = await serving(p.database_url, s.inference)
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
        self.shared = SharedValues(self.redis, "tft:dist:", p.cache_ttl_s, self.redis_backoff)
        service = await self._service(inference)
        self.gate = RedisGate(self.redis, p.rate_limits, p.default_tier, p.receipt_ttl_s, self.redis_backoff)
        self.serving = Serving(service, self.gate)
        metrics.serving(service.model_version, service.forecaster.describe())
        async with self.pool.acquire() as conn:
            if inference.model != "baseline":
                await self._follow_shadow(await ModelRegistryRepository(conn).active())
            self.follow_scales(service.model_version,
                               await IntervalScalesRepository(conn).of_version(service.model_version))
        self._opened.set()
        log.info("serving model %s", service.model_version)

    def follow_scales(self, version: str, scales: dict) -> None:
        generation, held_version, held = self.scales
        same = held_version == version and held.keys() == scales.keys() and all(
            np.array_equal(held[h], scales[h]) for h in scales)
        if not same:
            self.scales = (generation + 1, version, scales)

    def scales_of(self, version: str) -> tuple[int, dict]:
        """(generation, horizon -> log scales) for `version`; none for another version,
        until the validation timer reads its own (a swap starts from the model's intervals)."""
        generation, held_version, held = self.scales
        if not self.settings.inference.adaptive_intervals or held_version != version:
            return 0, {}
        return generation, held

    async def _service(self, inference: InferenceConfig) -> ForecastService:
        """The model of `inference` loaded (off the event loop) and checked against the contract."""
        forecaster = await asyncio.to_thread(load_forecaster, inference)
        check_contract(forecaster, self.settings.stream.window_bars)
        return ForecastService(forecaster, self.settings.inference, metrics.observe_batch,
                               await asyncio.to_thread(load_regime, inference), self.shared, regime_of, surfaces.of,
                               metrics.observe_cache, self.scales_of)

    async def follow_registry(self) -> None:
        """Serve the registry's active version once it is not the one served. A batch being
        served finishes with the model it began with (Serving.serve reads its service once),
        and the next takes the new one: no request is dropped or answered twice."""
        if self.settings.inference.model == "baseline":  # asked for by name: not replaced
            return
        async with self.pool.acquire() as conn:
            current = await ModelRegistryRepository(conn).active()
        if current is not None and current.version != self.serving.service.model_version:
            await self._swap(current)
        await self._follow_shadow(current)

    async def _swap(self, current: RegisteredModel) -> None:
        service = self._loaded.pop(current.version, None)  # a rollback finds its version loaded
        metrics.model_swaps_total.labels(from_cache=str(service is not None).lower()).inc()
        if service is None:
            service = await self._service(await self._inference_for(current))
        previous = self.serving.service
        self.serving.service = service
        metrics.serving(service.model_version, service.forecaster.describe())
        self._loaded[previous.model_version] = previous
        while len(self._loaded) >= max(1, self.settings.inference.model_cache_size):
            self._loaded.popitem(last=False)  # the least recently served goes
        log.info("now serving model %s (was %s)", service.model_version, previous.model_version)

    async def _inference_for(self, record: RegisteredModel) -> InferenceConfig:
        """The inference config that serves a registered version, its file checked first."""
        return replace(self.settings.inference, model=str(await asyncio.to_thread(verified, record)))

    async def _follow_shadow(self, current: RegisteredModel | None) -> None:
        """Keep the active version's predecessor loaded for shadow scoring, and only it."""
        wanted = current.replaced if current is not None else None
        if wanted == (self.shadow.version if self.shadow else None):
            return
        if wanted is None:
            self.shadow = None
            return
        held = self._loaded.get(wanted)
        if held is not None:
            self.shadow = held.forecaster
        else:
            async with self.pool.acquire() as conn:
                record = await ModelRegistryRepository(conn).get(version=wanted)
            self.shadow = await asyncio.to_thread(load_forecaster, await self._inference_for(record))
        log.info("scoring %s in shadow beside %s", wanted, current.version)

    @property
    def is_open(self) -> bool:
        return self._opened.is_set()

    async def opened(self) -> Serving:
        await self._opened.wait()
        return self.serving

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.redis is not None:
            await self.redis.aclose()
