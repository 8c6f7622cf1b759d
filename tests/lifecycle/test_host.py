"""The model host with no broker and no worker: a runtime's model side built by the test,
following the registry to a promoted version and back, with the predecessor in shadow."""
import asyncpg
import pytest

from inference.config import InferenceConfig
from inference.models import DEFAULT_ARTIFACT
from lifecycle.host import ModelHost, Wiring
from lifecycle.store import promote, register, rollback
from persistence.migrate import migrate
from tests.models import variant
from tests.services import fresh_database

pytestmark = pytest.mark.integration


class OpenGate:
    """Every request admitted, no receipts: the host does not look at the gate."""

    async def admit(self, asks):
        return [(True, 0, 0.0, None) for _ in asks]

    async def remember(self, receipts):
        pass


def wiring(seen: list) -> Wiring:
    return Wiring(shared=None, regime_of=lambda symbol: None, surface_of=lambda symbol: None,
                  on_batch=lambda n, s: None, on_cache=lambda where, n: None,
                  on_serving=lambda version, described: seen.append(version),
                  on_swap=lambda cached: seen.append(f"swap cached={cached}"))


async def test_the_host_follows_the_registry_to_a_promoted_version_and_back(tmp_path):
    other, other_version = variant(tmp_path, "other")
    async with fresh_database() as url:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            seen = []
            host = ModelHost(InferenceConfig(max_wait_ms=1), 512, pool, wiring(seen))
            await host.open(url, OpenGate())
            first = host.service.model_version
            assert seen == [first] and host.shadow is None
            store = tmp_path / "store"
            await promote(url, (await register(url, DEFAULT_ARTIFACT, store)).version, None, "test", "first")
            await promote(url, (await register(url, other, store)).version, None, "test", "second")
            await host.follow_registry()
            assert host.service.model_version == other_version
            assert host.shadow is not None and host.shadow.version == first  # the one it replaced, scored beside it
            await rollback(url, "test", "back")
            await host.follow_registry()
            assert host.service.model_version == first and host.shadow is None
        finally:
            await pool.close()
    assert seen == [first, "swap cached=False", other_version, "swap cached=True", first]  # back from the cache
