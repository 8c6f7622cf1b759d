"""Micro-batching: requests that arrive together are scored in one call.

A batch closes when it holds `max_size` items or `max_wait_s` after its first item,
whichever comes first. The scoring function runs in a worker thread so that a forward
pass never blocks the event loop (Kafka heartbeats, HTTP).
"""
import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

I = TypeVar("I")
O = TypeVar("O")


class MicroBatcher(Generic[I, O]):
    def __init__(self, score: Callable[[list[I]], Sequence[O]], max_size: int, max_wait_s: float,
                 on_batch: Callable[[int, float], None] | None = None):
        assert max_size >= 1
        self._score = score
        self._max_size = max_size
        self._max_wait_s = max_wait_s
        self._on_batch = on_batch
        self._pending: list[tuple[I, asyncio.Future]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._lock = asyncio.Lock()  # one forward pass at a time: batches queue, not threads

    async def submit(self, item: I) -> O:
        """One item, batched with whatever else arrives within max_wait_s."""
        (out,) = await self._add([item], wait=True)
        return out

    async def submit_many(self, items: list[I]) -> list[O]:
        """Items that arrived together (a consumed batch): scored at once, with anything
        already pending, and in as few passes as max_size allows. Results in order."""
        return await self._add(items, wait=False)

    async def _add(self, items: list[I], wait: bool) -> list[O]:
        loop = asyncio.get_running_loop()
        futures = []
        for item in items:
            futures.append(fut := loop.create_future())
            self._pending.append((item, fut))
            if len(self._pending) >= self._max_size:
                self._close(loop)
        if self._pending:
            if not wait:
                self._close(loop)
            elif self._timer is None:
                self._timer = loop.call_later(self._max_wait_s, self._close, loop)
        return list(await asyncio.gather(*futures))

    def _close(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            loop.create_task(self._run(batch))

    async def _run(self, batch: list[tuple[I, asyncio.Future]]) -> None:
        items = [item for item, _ in batch]
        async with self._lock:
            started = time.perf_counter()
            try:
                results = await asyncio.to_thread(self._score, items)
            except Exception as exc:  # every waiter learns of the failure; the batcher lives on
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                return
            if self._on_batch:
                self._on_batch(len(items), time.perf_counter() - started)
        for (_, fut), result in zip(batch, results, strict=True):
            if not fut.done():
                fut.set_result(result)
