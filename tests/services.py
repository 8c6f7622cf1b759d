"""The real services started by `make test`: a throw-away database, a spare Redis db."""
import contextlib
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

BASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_REDIS_DB = 15  # tests flush it; the service's default is db 0


@contextlib.asynccontextmanager
async def fresh_database():
    """A new, empty database on the test server, dropped afterwards."""
    name = f"tft_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(BASE_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(BASE_URL)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def redis_settings() -> tuple[str, int, int]:
    return (os.environ.get("REDIS_HOST", "127.0.0.1"), int(os.environ.get("REDIS_PORT", "6379")),
            TEST_REDIS_DB)
