import orjson

from persistence.queries import queries
from persistence.repositories.base import Repository
from persistence.repositories.forecast_metrics import MetricRow

_SQL = queries("validation")


def pending_rows(rows: list[MetricRow]) -> list[tuple]:
    """(symbol, as_of, horizon) keys of forecast_metrics rows, each once."""
    return sorted({(r.symbol, r.as_of, r.horizon) for r in rows})


class ValidationRepository(Repository):

    async def add_pending(self, keys: list[tuple]) -> None:
        await self.conn.executemany(_SQL["add_pending"], keys)

    async def pending(self, symbols: list[str], limit: int) -> list[tuple]:
        return [tuple(r) for r in await self.conn.fetch(_SQL["pending"], symbols, limit)]

    async def drop(self, key: tuple) -> None:
        """The key taken off the pending list unread: nothing can settle it."""
        await self.conn.execute(_SQL["settle"], *key)

    async def settle(self, key: tuple) -> list[dict]:
        """Inside a transaction: the key taken off the pending list, and its forecasts not
        scored yet (read after the key is locked: none committed before is missed)."""
        await self.conn.execute(_SQL["settle"], *key)
        rows = await self.conn.fetch(_SQL["unscored"], *key)
        return [dict(r) | {"intervals": orjson.loads(r["intervals"])} for r in rows]

    async def insert_many(self, rows: list[tuple]) -> None:
        await self.conn.executemany(_SQL["insert_many"], [
            (*r[:13], orjson.dumps(r[13]).decode(), *r[14:]) for r in rows])

    async def insert_shadow(self, rows: list[tuple]) -> None:
        await self.conn.executemany(_SQL["insert_shadow"], rows)

    async def versus_shadow(self, model_version: str, shadow_version: str) -> dict:
        """The served version and its predecessor in shadow on the same forecasts (n 0: none yet)."""
        return dict(await self.conn.fetchrow(_SQL["versus_shadow"], model_version, shadow_version))

    async def accuracy(self, model_version: str, by: str = "all") -> list[dict]:
        return [dict(r) for r in await self.conn.fetch(_SQL["accuracy"], model_version, by)]
