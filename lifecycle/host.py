"""The model host: the version a worker serves, the versions it served before (still
loaded, so a rollback swaps at once), the predecessor scored in shadow, and the served
version's adaptive interval scales.

It follows the registry: once another version is active it is loaded off the event loop,
checked against the contract and swapped in between two batches. It knows nothing of
Kafka: the worker hands it what its services read (`Wiring`) and a connection pool.
"""
import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

import asyncpg
import numpy as np

from inference.config import InferenceConfig
from inference.models import Forecaster, check_contract, load_dependence, load_forecaster, load_regime
from inference.service import ForecastService, HeldLevels, SharedForecasts
from inference.serving import Gate, Serving
from lifecycle.store import serving, verified
from persistence import AWAY
from persistence.repositories.interval_scales import IntervalScalesRepository
from persistence.repositories.model_registry import ModelRegistryRepository, RegisteredModel
from persistence.repositories.risk_levels_told import RiskLevelsToldRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wiring:
    """What the host's services read from, and tell, the worker around them."""
    shared: SharedForecasts | None  # distributions shared between workers
    regime_of: Callable  # symbol -> its regime as kept by the stream, or None
    surface_of: Callable  # symbol -> its option surface, or None
    on_batch: Callable[[int, float], None]
    on_cache: Callable[[str, int], None]
    on_serving: Callable[[str, dict], None]  # (version, its description): now served
    on_swap: Callable[[bool], None]  # a swap, from the cache of loaded versions or not


class ToldLevels:
    """The risk level last told per symbol, in PostgreSQL (risk_levels_told): a change is
    told once, whichever worker serves the next request, after a restart too. It is read
    only when a symbol's forecast is made anew (a new bar), once per batch. While
    PostgreSQL is away forecasts go on, compared with what this worker told meanwhile."""

    def __init__(self, pool: asyncpg.Pool, timeout_s: float = 1.0):
        self.pool = pool
        self.timeout_s = timeout_s
        self.held = HeldLevels()  # what this worker told, for when PostgreSQL is away

    async def told(self, symbols: list[str]) -> dict[str, str]:
        if not symbols:
            return {}
        try:
            async with asyncio.timeout(self.timeout_s), self.pool.acquire() as conn:
                return await RiskLevelsToldRepository(conn).of_symbols(symbols=symbols)
        except AWAY as e:
            log.warning("risk levels told are read from this worker's memory (%s: %s)", type(e).__name__, e)
            return await self.held.told(symbols)

    async def tell(self, events) -> None:
        await self.held.tell(events)
        try:
            async with asyncio.timeout(self.timeout_s), self.pool.acquire() as conn:
                await RiskLevelsToldRepository(conn).tell(
                    rows=[(e.symbol, e.level, e.as_of, e.model_version) for e in events])
        except AWAY as e:
            log.warning("%d risk levels told are kept in memory only (%s: %s)", len(events), type(e).__name__, e)


class ModelHost:
    def __init__(self, config: InferenceConfig, window_bars: int, pool: asyncpg.Pool, wiring: Wiring):
        self.config = config
        self.window_bars = window_bars
        self.pool = pool
        self.wiring = wiring
        self.told = ToldLevels(pool)
        self.serving: Serving | None = None
        # Versions served before, still loaded (MODEL_CACHE_SIZE counts the served one too).
        self._loaded: OrderedDict[str, ForecastService] = OrderedDict()
        # The version the active one replaced, scored in shadow (lifecycle/settle.py)
        # for as long as it is: what an automatic rollback compares with.
        self.shadow: Forecaster | None = None
        # The served version's adaptive interval scales, and a generation that changes
        # with them, so that answers shaped before are shaped again.
        self.scales: tuple[int, str, dict] = (0, "", {})

    async def open(self, database_url: str, gate: Gate) -> Serving:
        """Load what the registry says to serve (TFT_MODEL before any promotion)."""
        inference = await serving(database_url, self.config)
        service = await self._service(inference)
        self.serving = Serving(service, gate)
        self.wiring.on_serving(service.model_version, service.forecaster.describe())
        async with self.pool.acquire() as conn:
            if inference.model != "baseline":
                await self._follow_shadow(await ModelRegistryRepository(conn).active())
            self.follow_scales(service.model_version,
                               await IntervalScalesRepository(conn).of_version(service.model_version))
        return self.serving

    @property
    def service(self) -> ForecastService:
        return self.serving.service

    def follow_scales(self, version: str, scales: dict) -> None:
        generation, held_version, held = self.scales
        same = held_version == version and held.keys() == scales.keys() and all(
            np.array_equal(held[h], scales[h]) for h in scales)
        if not same:
            self.scales = (generation + 1, version, scales)

    def scales_of(self, version: str) -> tuple[int, dict]:
        """(generation, horizon -> log scales) for `version`; none for another version,
        until the validation pass reads its own (a swap starts from the model's intervals)."""
        generation, held_version, held = self.scales
        if not self.config.adaptive_intervals or held_version != version:
            return 0, {}
        return generation, held

    async def _service(self, inference: InferenceConfig) -> ForecastService:
        """The model of `inference` loaded (off the event loop) and checked against the contract."""
        forecaster = await asyncio.to_thread(load_forecaster, inference)
        check_contract(forecaster, self.window_bars)
        w = self.wiring
        service = ForecastService(forecaster, self.config, w.on_batch, await asyncio.to_thread(load_regime, inference),
                                  w.shared, w.regime_of, w.surface_of, w.on_cache, self.scales_of, self.told)
        service.dependence = await asyncio.to_thread(load_dependence, inference)
        return service

    async def follow_registry(self) -> None:
        """Serve the registry's active version once it is not the one served. A batch being
        served finishes with the model it began with (Serving.serve reads its service once),
        and the next takes the new one: no request is dropped or answered twice."""
        if self.config.model == "baseline":  # asked for by name: not replaced
            return
        async with self.pool.acquire() as conn:
            current = await ModelRegistryRepository(conn).active()
        if current is not None and current.version != self.service.model_version:
            await self._swap(current)
        await self._follow_shadow(current)

    async def _swap(self, current: RegisteredModel) -> None:
        service = self._loaded.pop(current.version, None)  # a rollback finds its version loaded
        self.wiring.on_swap(service is not None)
        if service is None:
            service = await self._service(await self._inference_for(current))
        previous = self.serving.service
        self.serving.service = service
        self.wiring.on_serving(service.model_version, service.forecaster.describe())
        self._loaded[previous.model_version] = previous
        while len(self._loaded) >= max(1, self.config.model_cache_size):
            self._loaded.popitem(last=False)  # the least recently served goes
        log.info("now serving model %s (was %s)", service.model_version, previous.model_version)

    async def _inference_for(self, record: RegisteredModel) -> InferenceConfig:
        """The inference config that serves a registered version, its file checked first."""
        return replace(self.config, model=str(await asyncio.to_thread(verified, record)))

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
