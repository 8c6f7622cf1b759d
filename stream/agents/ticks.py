"""market.ticks -> symbol_to_bars: each valid bar joins its symbol's rolling window.

Bars that arrive on their symbol's home partition are applied at once; the others
(keyless, or hashed by another client's partitioner) go through market.ticks.by-symbol
first. Bars are applied a batch at a time: each window is decoded and stored once per
batch, however many of its bars the batch holds.
"""
from collections import defaultdict

from features.cross_asset import is_context
from features.window import append_bar
from schemas import Bar, SchemaError, decode, encode
from stream import metrics
from stream.app import app, settings
from stream.dlq import send_dead_letter
from stream.keys import check_key, home_partition
from stream.tables import as_event, context_windows, windows
from stream.topics import MARKET_TICKS, bars_by_symbol, market_ticks

BATCH, WITHIN_S = 1000, 0.05


def apply_bars(events: list, bars: list[Bar]) -> None:
    """Add `bars` to their windows. `events[i]` carried `bars[i]`, on its symbol's home partition."""
    by_symbol = defaultdict(list)
    for event, bar in zip(events, bars):
        by_symbol[bar.symbol].append((event, bar))
    for symbol, items in by_symbol.items():
        window = windows.get(symbol)
        for _, bar in items:
            window = append_bar(window, bar, settings.stream.window_bars)
        with as_event(items[-1][0]):
            windows.put(window)
            if is_context(symbol):
                context_windows.put(window)
    metrics.bars_total.inc(len(bars))


async def decoded(events, source: str) -> tuple[list, list[Bar]]:
    good_events, bars = [], []
    for event in events:
        try:
            bar = decode(Bar, event.value)
            check_key(event.key, bar.symbol)
        except SchemaError as e:
            await send_dead_letter(event, source, str(e))
            continue
        good_events.append(event)
        bars.append(bar)
    return good_events, bars


@app.agent(market_ticks)
async def ingest_bars(stream):
    n = settings.stream.partitions
    async for events in stream.take_events(BATCH, within=WITHIN_S):
        events, bars = await decoded(events, MARKET_TICKS)
        home = [(e, b) for e, b in zip(events, bars) if e.message.partition == home_partition(b.symbol, n)]
        for e, b in zip(events, bars):
            if e.message.partition != home_partition(b.symbol, n):
                await bars_by_symbol.send(key=b.symbol.encode(), value=encode(b))
                metrics.forwarded_total.labels(topic=MARKET_TICKS).inc()
        if home:
            apply_bars(*zip(*home))


@app.agent(bars_by_symbol)
async def ingest_forwarded_bars(stream):
    async for events in stream.take_events(BATCH, within=WITHIN_S):
        apply_bars(*await decoded(events, MARKET_TICKS))
