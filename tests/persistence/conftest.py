import asyncpg
import pytest
import redis.asyncio as redis

from tests.services import fresh_database, redis_settings


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


@pytest.fixture
async def redis_client():
    host, port, db = redis_settings()
    client = redis.Redis(host=host, port=port, db=db)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()
