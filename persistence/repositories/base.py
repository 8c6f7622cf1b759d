from typing import ClassVar

import asyncpg


class BaseRepository:
    """The connection a repository's queries run on, and the batch insert of the
    repositories whose rows are built outside them (a row, or rows, function beside each)."""

    insert_sql: ClassVar[str]  # the table's `insert_many` query

    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn

    async def insert_many(self, *, rows: list[tuple]) -> None:
        await self.conn.executemany(self.insert_sql, rows)
