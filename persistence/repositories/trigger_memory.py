from persistence.queries import queries
from persistence.repositories.base import Repository

_SQL = queries("trigger_memory")


class TriggerMemoryRepository(Repository):
    async def get(self, *, name: str) -> str | None:
        return await self.conn.fetchval(_SQL["get"], name)

    async def put(self, *, name: str, value: str) -> None:
        await self.conn.execute(_SQL["put"], name, value)
