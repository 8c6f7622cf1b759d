"""market.ticks -> symbol_to_bars: each valid bar joins its symbol's rolling window."""
from features.cross_asset import is_context
from features.window import BarWindow, append_bar
from schemas import Bar, SchemaError, decode
from stream import metrics
from stream.app import app, settings
from stream.dlq import send_dead_letter
from stream.keys import check_key
from stream.tables import context_to_bars, symbol_to_bars
from stream.topics import MARKET_TICKS, market_ticks


@app.agent(market_ticks)
async def ingest_bars(stream):
    async for event in stream.events():
        try:
            bar = decode(Bar, event.value)
            check_key(event.key, bar.symbol)
        except SchemaError as e:
            await send_dead_letter(event, MARKET_TICKS, str(e))
            continue
        key = bar.symbol.encode()
        old = symbol_to_bars.get(key)
        window = append_bar(old and BarWindow.from_bytes(old), bar, settings.stream.window_bars)
        symbol_to_bars[key] = raw = window.to_bytes()
        if is_context(bar.symbol):
            context_to_bars[key] = raw
        metrics.bars_total.inc()

