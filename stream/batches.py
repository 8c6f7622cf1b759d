"""Batches of events for the agents, without the events of an earlier group generation.

After a rebalance Faust seeks each partition back to its committed offset and clears
the stream buffers; events already inside a batch can still come through. Acking them
would be the bug: Faust commits the first run of acked offsets, and these stale ones
lie past the events that the clear dropped, so a commit could skip those for good (seen
as lost requests when a worker died while the group rebalanced). They are marked done
unrecorded instead, and served when the new generation fetches them again.
"""
from collections.abc import AsyncIterator, Callable

import faust

from stream import metrics
from stream.app import app, settings
from stream.keys import home_partition


def current(events: list[faust.types.EventT]) -> list[faust.types.EventT]:
    generation = app.consumer_generation_id
    out = []
    for event in events:
        fetched = event.message.generation_id
        if fetched is not None and fetched != generation:
            event.message.acked = True  # Faust's own test: not recorded, dropped from unacked
        else:
            out.append(event)
    return out


async def batches(stream, max_: int, within_s: float) -> AsyncIterator[list[faust.types.EventT]]:
    async for events in stream.take_events(max_, within=within_s):
        if fresh := current(events):
            yield fresh


async def at_home(delivery, items: list[tuple[faust.types.EventT, object]], to: faust.types.TopicT, source: str,
                  forwarded: Callable[[faust.types.EventT, object], bytes]) -> list[tuple]:
    """The (event, item) pairs on their item's symbol's home partition; the others are
    sent on to `to`, keyed by symbol, as `forwarded(event, item)`, through `delivery`."""
    n = settings.stream.partitions
    home = []
    for event, item in items:
        if event.message.partition == home_partition(item.symbol, n):
            home.append((event, item))
        else:
            await delivery.send(to, item.symbol.encode(), forwarded(event, item), event)
            metrics.forwarded_total.labels(topic=source).inc()
    return home
