from typing import ClassVar

import asyncpg


class Repository:
    """The connection a repository's queries run on."""

    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn


class RowsRepository(Repository):
    """A repository whose rows are built outside it (a `row` or `rows` function beside
    it) and written in batches."""

    insert_sql: ClassVar[str]  # the table's `insert_many` query

    async def insert_many(self, *, rows: list[tuple]) -> None:
        await self.conn.executemany(self.insert_sql, rows)
