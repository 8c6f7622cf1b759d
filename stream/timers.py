"""Periodic work: publish consumer lag, hand freed memory back."""
import ctypes
import ctypes.util

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

    @app.timer(interval=rt.settings.stream.lag_interval_s)
    async def publish_consumer_lag():
        consumer = app.consumer
        for tp in consumer.assignment():
            # either is None until the partition's first fetch: no figure is better than a wrong one
            position, highwater = await consumer.position(tp), consumer.highwater(tp)
            if position is not None and highwater is not None:
                lag = max(0, highwater - position)
                metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)
