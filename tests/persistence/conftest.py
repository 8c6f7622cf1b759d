import asyncpg
import pytest

from tests.services import fresh_database


@pytest.fixture(scope="session")
async def database_url():
    async with fresh_database() as url:
        yield url


@pytest.fixture
async def pool(database_url):
    from persistence.migrate import migrate
    p = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    async with p.acquire() as conn:
        await migrate(conn)
    yield p
    await p.close()
