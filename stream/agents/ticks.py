"""market.ticks -> symbol_to_bars (+ symbol_regimes, regime.events): each valid bar joins
its symbol's rolling window, and its symbol's regime is read again.

A bar is checked as market data (features.quality) before it joins: on its own where
it arrives, against its window on the symbol's home partition. Bars that arrive on
their home partition are applied at once; the others (keyless, or hashed by another
client's partitioner) go through market.ticks.by-symbol first. Bars are applied a
batch at a time: each window is decoded and stored once per batch, however many of its
bars the batch holds. A series (schemas.BarSeries, a backfill) is many bars of one
symbol in one message: its bars are checked and join one by one, and its symbol's regime
is read once, at its last bar.
"""
import time
from collections import defaultdict
from datetime import UTC, datetime
from itertools import groupby

import numpy as np

from features.cross_asset import is_context
from features.data_quality import flags, last_bar
from features.quality import bar_problems, fits_window, is_traded
from features.window import BarWindow, append_bar, extend
from schemas import Bar, BarSeries, SchemaError, decode_ticks, encode
from stream import metrics
from stream.batches import at_home, batches
from stream.dlq import send_dead_letter
from stream.keys import check_key, check_size
from stream.regimes import track
from stream.tables import as_event, context_windows, windows
from stream.topics import MARKET_TICKS, bars_by_symbol, market_ticks

BATCH, WITHIN_S = 1000, 0.05


def apply_bars(settings, events: list, bars: list[Bar]) -> tuple[list[tuple[object, Bar, str]],
                                                                 list[tuple[object, BarWindow]]]:
    """Add `bars` to their windows, in order; returns the (event, bar, reason) of those
    that do not fit, and for each event whose bars joined, the window after its last:
    a series' intermediate windows are let go as it goes (512 of up to 24 KB each).
    `events[i]` carried `bars[i]`, on its symbol's home partition."""
    by_symbol = defaultdict(list)
    for event, bar in zip(events, bars):
        by_symbol[bar.symbol].append((event, bar))
    refused, joined = [], []
    for symbol, items in by_symbol.items():
        window = old = windows.get(symbol)
        for _, message in groupby(items, key=lambda item: id(item[0])):  # a bar, or a series' bars
            message = list(message)
            if len(message) > 1 and (after := _appended(window, [bar for _, bar in message], settings)) is not None:
                window = after
                if is_traded(symbol):
                    _count_flags(symbol, flags(window.dates, window.close), len(message))
                joined.append((message[0][0], window))
                continue
            for event, bar in message:
                if (reason := fits_window(bar, window, settings.quality, settings.stream.window_bars)) is not None:
                    refused.append((event, bar, reason))
                else:
                    window = append_bar(window, bar, settings.stream.window_bars)
                    if is_traded(symbol):
                        for check in last_bar(window.dates, window.close):
                            metrics.data_quality_flags.labels(check, symbol).inc()
                    if joined and joined[-1][0] is event:
                        joined[-1] = (event, window)
                    else:
                        joined.append((event, window))
        if window is not old:
            with as_event(items[-1][0]):
                windows.put(window)
                if is_context(symbol):
                    context_windows.put(window)
    metrics.bars_total.inc(len(bars) - len(refused))
    now = time.time()
    for symbol in {window.symbol for _, window in joined}:
        metrics.last_bar.labels(symbol).set(now)
    return refused, joined


def _appended(window: BarWindow | None, bars: list[Bar], settings) -> BarWindow | None:
    """The window with a series' `bars` added in one step, when each would join one by one
    as the next after the window's last (the common case of a backfill); else None."""
    if window is not None and len(window) and bars[0].day <= window.last_date:
        return None
    if is_traded(bars[0].symbol):
        closes = np.array([b.close for b in bars])
        before = closes[:-1] if window is None or not len(window) else np.concatenate([window.close[-1:], closes[:-1]])
        if np.any(np.abs(np.log(closes[len(closes) - len(before):] / before)) > settings.quality.max_jump):
            return None
    return extend(window, bars, settings.stream.window_bars)


def _count_flags(symbol: str, flagged: dict[str, np.ndarray], last: int) -> None:
    """The data-quality flags of the `last` bars of a window, counted as each bar's would be."""
    for check, per_bar in flagged.items():
        if n := int(np.count_nonzero(per_bar[-last:])):
            metrics.data_quality_flags.labels(check, symbol).inc(n)


def _refusal(item: Bar | BarSeries, reasons: list[tuple[Bar, str]]) -> str:
    """The dead letter's reason for `reasons` (bar, why) among the bars of `item`."""
    if isinstance(item, Bar):
        return reasons[0][1]
    listed = "; ".join(f"{bar.day}: {why}" for bar, why in reasons[:5])
    return f"{len(reasons)} of the series' bars refused: {listed}" + ("; ..." if len(reasons) > 5 else "")


async def decoded(rt, events, source: str) -> tuple[list, list[Bar | BarSeries]]:
    """The events that hold possible bars, and their bars or series (less the impossible
    bars of a series); the impossible to the DLQ."""
    settings = rt.settings
    today = datetime.now(UTC).date()
    good_events, items = [], []
    for event in events:
        try:
            check_size(event.value, settings.stream.max_event_bytes)
            item = decode_ticks(event.value)
            check_key(event.key, item.symbol, exact=True)
        except SchemaError as e:
            await send_dead_letter(rt.delivery, event, source, str(e))
            continue
        bars = item.each()
        impossible = [(bar, "; ".join(p)) for bar in bars if (p := bar_problems(bar, settings.quality, today))]
        if impossible:
            await send_dead_letter(rt.delivery, event, source, _refusal(item, impossible))
            if len(impossible) == len(bars):
                continue
            refused = {id(bar) for bar, _ in impossible}
            item = BarSeries.of([bar for bar in bars if id(bar) not in refused])
        good_events.append(event)
        items.append(item)
    return good_events, items


async def apply(rt, events: list, items: list[Bar | BarSeries]) -> None:
    """Add the bars of `items` (`events[i]` carried `items[i]`); one dead letter per
    message for the bars that do not fit, and a regime read per message: per bar, or per series."""
    events_of_bars, bars, messages = [], [], {}
    for event, item in zip(events, items):
        held = item.each()
        events_of_bars += [event] * len(held)
        bars += held
        messages[id(event)] = item
    refused, joined = apply_bars(rt.settings, events_of_bars, bars)
    by_message: dict[int, tuple[object, list[tuple[Bar, str]]]] = {}
    for event, bar, reason in refused:
        by_message.setdefault(id(event), (event, []))[1].append((bar, reason))
    for event, reasons in by_message.values():
        await send_dead_letter(rt.delivery, event, MARKET_TICKS, _refusal(messages[id(event)], reasons))
    await track(rt, joined)


def install(rt) -> None:
    @rt.app.agent(market_ticks)
    async def ingest_bars(stream):
        async for events in batches(stream, BATCH, WITHIN_S):
            events, bars = await decoded(rt, events, MARKET_TICKS)
            home = await at_home(rt.delivery, list(zip(events, bars)), bars_by_symbol, MARKET_TICKS,
                                 lambda _, bar: encode(bar))
            if home:
                await apply(rt, *zip(*home))

    @rt.app.agent(bars_by_symbol)
    async def ingest_forwarded_bars(stream):
        async for events in batches(stream, BATCH, WITHIN_S):
            await apply(rt, *await decoded(rt, events, MARKET_TICKS))
