from persistence.queries import queries
from persistence.repositories.base import Repository

_SQL = queries("retrain_triggers")


class RetrainTriggersRepository(Repository):

    async def claim(self, trigger: str, period: str, job_id: str, reason: str) -> bool:
        """True for the first worker to ask for this trigger's period."""
        return await self.conn.execute(_SQL["claim"], trigger, period, job_id, reason) == "INSERT 0 1"

    async def recent(self, limit: int = 10) -> list[dict]:
        return [dict(r) for r in await self.conn.fetch(_SQL["recent"], limit)]
