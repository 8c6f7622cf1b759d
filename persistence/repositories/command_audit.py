import orjson

from persistence.queries import queries
from persistence.repositories.base import Repository

_SQL = queries("command_audit")


class CommandAuditRepository(Repository):

    async def insert(self, *, command: str, actor: str, source: str, params: dict, status: str,
                     reason: str | None = None) -> None:
        await self.conn.execute(_SQL["insert"], command, actor, source, orjson.dumps(params).decode(), status,
                                reason)

    async def recent(self, *, command: str, limit: int = 20) -> list[dict]:
        return [dict(r) for r in await self.conn.fetch(_SQL["recent"], command, limit)]
