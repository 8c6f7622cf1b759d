"""Feature importance of a model version (tft.interpret), kept in PostgreSQL for
GET /features/{symbol}/importance."""
import asyncio
from pathlib import Path

import pandas as pd

from features.data import load
from lifecycle.settings import LifecycleSettings
from lifecycle.store import artifact_path_of
from persistence.migrate import migrated
from persistence.repositories.feature_importance import FeatureImportanceRepository
from tft.artifact import load as load_artifact
from tft.interpret import Interpretation, interpret_range

RECENT = pd.Timedelta(days=91)


async def store(database_url: str, model_version: str, interp: Interpretation) -> int:
    rows = [(model_version, r.symbol, int(r.horizon), r.feature, r.feature_group, float(r.importance))
            for r in interp.importance.itertuples(index=False)]
    async with migrated(database_url) as conn, conn.transaction():
        await FeatureImportanceRepository(conn).upsert_many(rows=rows)
    return len(rows)


async def stored_rows(database_url: str, model_version: str) -> int:
    async with migrated(database_url) as conn:
        return await FeatureImportanceRepository(conn).count_for_model(model_version=model_version)


def ensure_recent(settings: LifecycleSettings, data_dir: Path) -> tuple[str, str, int] | None:
    """The served model's importance over the data's last quarter, of the symbols it was
    fitted on, stored once per model: (version, first day, rows stored), or None when it
    was stored before. Of every symbol served, it held `make run` back in proportion: 9
    minutes of interpretation before the worker started, at 5,500 symbols."""
    art = load_artifact(artifact_path_of(settings, settings.inference.model))
    url = settings.persistence.database_url
    if asyncio.run(stored_rows(url, art.version)):
        return None
    data = load(data_dir)
    start = (data.panel["date"].max() - RECENT).date().isoformat()
    interp = interpret_range(data, art, start, symbols=list(art.spec.symbols))
    return art.version, start, asyncio.run(store(url, art.version, interp))
