import asyncpg
import orjson

from persistence.queries import queries
from persistence.repositories.base import Repository

_SQL = queries("model_jobs")


def _job(row: asyncpg.Record) -> dict:
    return dict(row) | {"command": orjson.loads(row["command"])}


class ModelJobsRepository(Repository):

    async def add(self, job_id: str, command: dict) -> bool:
        """False when the job is known already (a command delivered again)."""
        return await self.conn.execute(_SQL["add"], job_id, orjson.dumps(command).decode(),
                                       command.get("priority", "normal")) == "INSERT 0 1"

    async def claim_next(self) -> tuple[str, dict] | None:
        """(job id, command) of the next waiting job, now running; None when none waits."""
        row = await self.conn.fetchrow(_SQL["claim_next"])
        return None if row is None else (row["job_id"], orjson.loads(row["command"]))

    async def update(self, job_id: str, status: str, progress: float, message: str,
                     version: str | None = None, promoted: bool | None = None) -> None:
        await self.conn.execute(_SQL["update"], job_id, status, progress, message, version, promoted)

    async def get(self, job_id: str) -> dict | None:
        row = await self.conn.fetchrow(_SQL["get"], job_id)
        return None if row is None else _job(row)

    async def recent(self, limit: int = 10) -> list[dict]:
        return [_job(r) for r in await self.conn.fetch(_SQL["recent"], limit)]
