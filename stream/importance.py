"""Feature importance of the served model: computed from real data, kept in PostgreSQL."""
import numpy as np

from features.data import MarketData
from persistence.migrate import migrated
from persistence.repositories.feature_importance import FeatureImportanceRepository
from tft.artifact import Artifact
from tft.data import market_series, sample_days
from tft.interpret import Interpretation, interpret


def interpret_recent(data: MarketData, art: Artifact, start: str, end: str | None = None,
                     progress: bool = True) -> Interpretation:
    series = market_series(data, end)
    idx = sample_days(series, art.spec, np.datetime64(start, "D"),
                      np.datetime64(end, "D") if end else None, need_target=False)
    return interpret(art, series, idx, progress=progress)


async def store(database_url: str, model_version: str, interp: Interpretation) -> int:
    rows = [(model_version, r.symbol, int(r.horizon), r.feature, r.feature_group, float(r.importance))
            for r in interp.importance.itertuples(index=False)]
    async with migrated(database_url) as conn, conn.transaction():
        await FeatureImportanceRepository(conn).upsert_many(rows=rows)
    return len(rows)


async def stored_rows(database_url: str, model_version: str) -> int:
    async with migrated(database_url) as conn:
        return await FeatureImportanceRepository(conn).count_for_model(model_version=model_version)
