from dataclasses import dataclass
from datetime import date, datetime

import asyncpg
import orjson

from persistence.queries import queries
from persistence.repositories.base import Repository

_SQL = queries("model_registry")
NAME = "tft"  # one model name today; the lifecycle keeps one active version per name


class ModelNotRegistered(LookupError):
    pass


class LifecycleError(ValueError):
    """A promotion or rollback that cannot be done: the reason says why."""


@dataclass(frozen=True)
class RegisteredModel:
    version: str
    kind: str
    path: str
    status: str
    train_start: date | None
    train_end: date | None
    git_commit: str | None
    checksum: str | None = None
    promoted_at: datetime | None = None
    promoted_by: str | None = None
    reason: str | None = None
    replaced: str | None = None

    @classmethod
    def of(cls, row: asyncpg.Record) -> "RegisteredModel":
        return cls(row["version"], row["kind"], row["path"], row["status"], row["train_start"], row["train_end"],
                   row["git_commit"], row["checksum"], row["promoted_at"], row["promoted_by"], row["reason"],
                   row["replaced"])


class ModelRegistryRepository(Repository):

    async def register(self, *, version: str, kind: str, path: str, config: dict, metrics: dict,
                       train_start: date | None, train_end: date | None, git_commit: str | None,
                       checksum: str | None = None) -> None:
        await self.conn.execute(_SQL["register"], version, kind, path, orjson.dumps(config).decode(),
                                orjson.dumps(metrics).decode(), train_start, train_end, git_commit, checksum)

    async def get(self, *, version: str) -> RegisteredModel:
        row = await self.conn.fetchrow(_SQL["get"], version)
        if row is None:
            raise ModelNotRegistered(f"no model {version!r} in model_registry")
        return RegisteredModel.of(row)

    async def active(self) -> RegisteredModel | None:
        row = await self.conn.fetchrow(_SQL["active"], NAME)
        return None if row is None else RegisteredModel.of(row)

    async def record_gate(self, *, version: str, validation: dict, reason: str) -> None:
        await self.conn.execute(_SQL["record_gate"], version, orjson.dumps(validation).decode(), reason)

    async def promote(self, *, version: str, by: str, reason: str) -> str | None:
        """Inside a transaction: `version` becomes the active one and the active one is
        retired; returns the version it replaced."""
        await self.conn.execute(_SQL["lock"], NAME)
        target = await self.get(version=version)
        current = await self.active()
        if current is not None and current.version == version:
            raise LifecycleError(f"{version} is already active")
        if current is not None:
            await self.conn.execute(_SQL["retire"], current.version, f"replaced by {version}: {reason}")
        await self.conn.execute(_SQL["activate"], target.version, by, reason,
                                current.version if current else None)
        return current.version if current else None

    async def rollback(self, *, by: str, reason: str, expected: str | None = None) -> tuple[str, str]:
        """Inside a transaction: back to the version the active one replaced; returns
        (the version retired, the version active again). With `expected`, only while that
        version is the active one: workers that decide alike roll back once."""
        await self.conn.execute(_SQL["lock"], NAME)
        current = await self.active()
        if expected is not None and (current is None or current.version != expected):
            raise LifecycleError(f"{expected} is not the active version any more")
        if current is None or current.replaced is None:
            raise LifecycleError("nothing to roll back to: no active version replaced another")
        previous = await self.get(version=current.replaced)
        await self.conn.execute(_SQL["retire"], current.version, f"rolled back: {reason}")
        # It keeps what it had replaced, so that a second rollback goes further back.
        await self.conn.execute(_SQL["activate"], previous.version, by, f"rollback of {current.version}: {reason}",
                                previous.replaced)
        return current.version, previous.version

    async def history(self, limit: int = 10) -> list[dict]:
        return [dict(r) | {"validation": r["validation"] and orjson.loads(r["validation"])}
                for r in await self.conn.fetch(_SQL["history"], NAME, limit)]
