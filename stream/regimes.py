"""Each traded symbol's regime, read again on every bar that joins its window: a
heartbeat on regime.events, a change when the most likely regime is not the one before,
and the state (since when, for how many sessions, after what) in symbol_regimes.

The regime is the served model's regime book on the window and the context as they
stand when the bar joins (regime/book.py), the same reading a forecast made from that
window carries. A bar of a symbol that is not a price (VIX, rates, ratios), or whose
window is still too short, has no regime and no event.
"""
from regime.book import advance, asset_class
from schemas import RegimeState, encode
from stream import metrics
from stream.lifecycle import resources
from stream.tables import as_event, contexts, symbol_regimes
from stream.topics import regime_events


def state_of(symbol: str) -> RegimeState | None:
    raw = symbol_regimes.get(symbol.encode())
    return RegimeState.model_validate_json(raw) if raw else None


async def track(joined: list) -> None:
    """`joined`: (event, the window after its bar), in the order the bars joined."""
    service = (await resources.opened()).service
    if service.regime is None:
        return
    for event, window in joined:
        if asset_class(window.symbol) is None:
            continue
        info = service.regime.current(window.symbol, window.dates, window.close, contexts.of(window.symbol))
        if info is None:
            continue
        news = advance(state_of(window.symbol), window.symbol, window.last_date, info, service.model_version)
        with as_event(event):
            symbol_regimes[window.symbol.encode()] = encode(RegimeState(**news.model_dump(exclude={"kind"})))
        await regime_events.send(key=window.symbol.encode(), value=encode(news))
        metrics.regime_events_total.labels(news.kind).inc()
