from persistence.queries import queries
from persistence.repositories.base import Repository

_SQL = queries("feature_importance")


class FeatureImportanceRepository(Repository):

    async def upsert_many(self, *, rows: list[tuple]) -> None:
        """rows: (model_version, symbol, horizon, feature, feature_group, importance)."""
        await self.conn.executemany(_SQL["upsert_many"], rows)

    async def for_symbol(self, *, model_version: str, symbol: str, horizon: int) -> list[dict]:
        rows = await self.conn.fetch(_SQL["for_symbol"], model_version, symbol, horizon)
        return [dict(r) for r in rows]

    async def count_for_model(self, *, model_version: str) -> int:
        return await self.conn.fetchval(_SQL["count_for_model"], model_version)
