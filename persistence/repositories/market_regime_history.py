import orjson

from persistence.queries import queries
from persistence.repositories.base import RowsRepository
from schemas import RegimeEvent

_SQL = queries("market_regime_history")


def row(event: RegimeEvent) -> tuple:
    """A change of a symbol's regime (the day it began) as a market_regime_history row."""
    r = event.regime
    return (event.symbol, event.as_of, event.model_version, r.name, r.confidence,
            orjson.dumps(r.probabilities or {}).decode())


class MarketRegimeRepository(RowsRepository):
    insert_sql = _SQL["insert_many"]
