"""Periodic work: publish consumer lag, hand freed memory back."""
import ctypes
import ctypes.util

from aiokafka.errors import IllegalStateError

from stream import metrics

_libc = ctypes.CDLL(ctypes.util.find_library("c")) if ctypes.util.find_library("c") else None


def install(rt) -> None:
    app = rt.app

    @app.timer(interval=10.0)
    async def return_freed_memory():
        """glibc keeps the heap a burst of requests grew and freed; malloc_trim returns it, so
        that the worker's RSS follows what it holds (measured: README, "Memory")."""
        if _libc is not None and hasattr(_libc, "malloc_trim"):
            _libc.malloc_trim(0)

    published: set[tuple[str, str]] = set()

    @app.timer(interval=rt.settings.stream.lag_interval_s)
    async def publish_consumer_lag():
        consumer = app.consumer
        held = set()
        for tp in consumer.assignment():
            try:
                # either is None until the partition's first fetch: no figure is better than a wrong one
                position, highwater = await consumer.position(tp), consumer.highwater(tp)
            except IllegalStateError:  # moved to another worker since assignment(): an error here crashed the app
                continue
            if position is not None and highwater is not None:
                labels = (tp.topic, str(tp.partition))
                metrics.consumer_lag.labels(*labels).set(max(0, highwater - position))
                held.add(labels)
        for labels in published - held:  # another worker's now: its last figure here would be stale
            metrics.consumer_lag.remove(*labels)
        published.clear()
        published.update(held)
