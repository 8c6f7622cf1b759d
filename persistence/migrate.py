"""Numbered plain-SQL migrations, applied in order, each once, each in a transaction."""
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_KEY = 7_301_911  # advisory lock: two workers starting together apply each file once


def migration_files(folder: Path = MIGRATIONS) -> list[tuple[int, Path]]:
    files = []
    for path in sorted(folder.glob("*.sql")):
        number, _, _ = path.stem.partition("_")
        files.append((int(number), path))
    numbers = [n for n, _ in files]
    assert numbers == sorted(set(numbers)), f"migration numbers must be unique: {numbers}"
    return files


async def migrate(conn: asyncpg.Connection, folder: Path = MIGRATIONS) -> list[str]:
    """Apply what is missing; returns the names applied."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())")
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for number, path in migration_files(folder):
            if number in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text())
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                   number, path.stem)
            applied.append(path.stem)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


@asynccontextmanager
async def migrated(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a database whose schema is brought up to date first; closed after."""
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        yield conn
    finally:
        await conn.close()
