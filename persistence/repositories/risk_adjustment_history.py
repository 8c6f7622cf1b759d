import asyncpg
import orjson

from persistence.queries import queries
from schemas import RiskEvent

_SQL = queries("risk_adjustment_history")


def row(event: RiskEvent) -> tuple:
    """A change of a symbol's risk level as a risk_adjustment_history row."""
    return (event.symbol, event.as_of, event.model_version, event.level, event.previous, event.interval_scale,
            event.var_95, orjson.dumps([r.model_dump() for r in event.rules]).decode(), event.request_id)


class RiskAdjustmentRepository:
    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn

    async def insert_many(self, *, rows: list[tuple]) -> None:
        await self.conn.executemany(_SQL["insert_many"], rows)
