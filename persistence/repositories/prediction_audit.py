from persistence.queries import queries
from persistence.repositories.base import RowsRepository
from schemas import ForecastRequest, ForecastResult, encode

_SQL = queries("prediction_audit")


def row(request: ForecastRequest, result: ForecastResult, source: str) -> tuple:
    return (result.request_id, request.user_id, request.symbol, source, encode(request).decode(),
            result.status, result.error.code if result.error else None, result.model_version,
            result.disclaimer)


class PredictionAuditRepository(RowsRepository):
    insert_sql = _SQL["insert_many"]
