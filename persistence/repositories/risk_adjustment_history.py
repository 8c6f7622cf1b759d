import asyncpg

from persistence.queries import queries
from schemas import ForecastResult

_SQL = queries("risk_adjustment_history")


def row(result: ForecastResult) -> tuple | None:
    if result.risk is None:
        return None
    r = result.risk
    return (result.request_id, result.symbol, result.as_of, r["vol_ratio"], r["interval_scale"],
            r["var_95"])


class RiskAdjustmentRepository:
    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn

    async def insert_many(self, *, rows: list[tuple]) -> None:
        await self.conn.executemany(_SQL["insert_many"], rows)
