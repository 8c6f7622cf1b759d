"""The order retraining jobs run in: high priority first, then in the order they came.
A running job is never interrupted; a high-priority one waits only for it."""
import asyncio
import itertools
from typing import Generic, TypeVar

J = TypeVar("J")
RANK = {"high": 0, "normal": 1}


class JobQueue(Generic[J]):
    def __init__(self):
        self._queue: asyncio.PriorityQueue[tuple[int, int, J]] = asyncio.PriorityQueue()
        self._arrival = itertools.count()

    def put(self, job: J, priority: str) -> None:
        self._queue.put_nowait((RANK[priority], next(self._arrival), job))

    async def get(self) -> J:
        return (await self._queue.get())[2]

    def __len__(self) -> int:
        return self._queue.qsize()
