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

    published: set[tuple[str, str]] = set()

    @app.timer(interval=rt.settings.stream.lag_interval_s)
    async def publish_consumer_lag():
        """The high-water mark minus the next offset the agents are handed. The offsets come
        from Faust's monitor and the consumer's last fetch, never from the consumer's own
        thread: asking it each partition's position, a call queued among the fetches that
        serve requests, put p50 at 10,000 requests/min at 1.0-1.6 s (benchmarks/serving.py;
        133 ms with the timer off)."""
        consumer, read = app.consumer, app.monitor.tp_read_offsets
        held = set()
        for tp in consumer.assignment():
            try:
                highwater = consumer.highwater(tp)
            except AssertionError:  # moved to another worker since assignment(), as aiokafka asserts
                continue
            # None until the partition's first fetch and first record: no figure is better than a wrong one
            if highwater is not None and (offset := read.get(tp)) is not None:
                labels = (tp.topic, str(tp.partition))
                metrics.consumer_lag.labels(*labels).set(max(0, highwater - offset - 1))
                held.add(labels)
        for labels in published - held:  # another worker's now: its last figure here would be stale
            metrics.consumer_lag.remove(*labels)
        published.clear()
        published.update(held)
