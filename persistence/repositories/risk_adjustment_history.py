import orjson

from persistence.queries import queries
from persistence.repositories.base import RowsRepository
from schemas import RiskEvent

_SQL = queries("risk_adjustment_history")


def row(event: RiskEvent) -> tuple:
    """A change of a symbol's risk level as a risk_adjustment_history row."""
    return (event.symbol, event.as_of, event.model_version, event.level, event.previous, event.interval_scale,
            event.var_95, orjson.dumps([r.model_dump() for r in event.rules]).decode(), event.request_id)


class RiskAdjustmentRepository(RowsRepository):
    insert_sql = _SQL["insert_many"]
