import asyncpg
import orjson

from persistence.queries import queries
from schemas import ForecastResult

_SQL = queries("market_regime_history")
MARKET = "SPY"  # the regime is the market's, read from SPY


def row(result: ForecastResult) -> tuple | None:
    if result.regime is None:
        return None
    r = result.regime
    return (MARKET, result.as_of, result.model_version, r.name, r.confidence,
            orjson.dumps(r.probabilities or {}).decode())


class MarketRegimeRepository:
    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn

    async def insert_many(self, *, rows: list[tuple]) -> None:
        await self.conn.executemany(_SQL["insert_many"], rows)
