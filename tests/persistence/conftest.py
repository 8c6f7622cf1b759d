import asyncpg
import pytest



@pytest.fixture
async def pool(database_url):
    from persistence.migrate import migrate
    p = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    async with p.acquire() as conn:
        await migrate(conn)
    yield p
    await p.close()
