from dataclasses import dataclass
from datetime import date

import asyncpg
import orjson

from persistence.queries import queries

_SQL = queries("model_registry")


class ModelNotRegistered(LookupError):
    pass


@dataclass(frozen=True)
class RegisteredModel:
    version: str
    kind: str
    path: str
    status: str
    train_start: date | None
    train_end: date | None
    git_commit: str | None


class ModelRegistryRepository:
    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn

    async def register(self, *, version: str, kind: str, path: str, config: dict, metrics: dict,
                       train_start: date | None, train_end: date | None, git_commit: str | None) -> None:
        await self.conn.execute(_SQL["register"], version, kind, path, orjson.dumps(config).decode(),
                                orjson.dumps(metrics).decode(), train_start, train_end, git_commit)

    async def get(self, *, version: str) -> RegisteredModel:
        row = await self.conn.fetchrow(_SQL["get"], version)
        if row is None:
            raise ModelNotRegistered(f"no model {version!r} in model_registry")
        return RegisteredModel(row["version"], row["kind"], row["path"], row["status"],
                               row["train_start"], row["train_end"], row["git_commit"])
