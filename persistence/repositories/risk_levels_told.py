from datetime import date

from persistence.queries import queries
from persistence.repositories.base import Repository

_SQL = queries("risk_levels_told")


class RiskLevelsToldRepository(Repository):
    async def of_symbols(self, *, symbols: list[str]) -> dict[str, str]:
        """symbol -> the risk level last told for it; symbols never told are absent."""
        return {r["symbol"]: r["level"] for r in await self.conn.fetch(_SQL["of_symbols"], symbols)}

    async def tell(self, *, rows: list[tuple[str, str, date, str]]) -> None:
        """(symbol, level, as_of, model_version) each, now told."""
        await self.conn.executemany(_SQL["tell"], rows)
