"""Each traded symbol's regime, read again on every bar that joins its window: a
heartbeat on regime.events, a change when the most likely regime is not the one before,
and the state (since when, for how many sessions, after what) in symbol_regimes.

The reading is the filtered probability of the served model's regime book
(regime/book.py). A bar that follows the day the state was read on moves the filter one
step, from the stored state probabilities and that day's observation (a few tens of
microseconds); any other bar (the first, a gap, a late or corrected one, a new model)
reads the whole window again. A bar of a symbol that is not a price (VIX, rates,
ratios), or whose window is still too short, has no regime and no event.

An equity's reading needs VIX at its last day. On a cold start a symbol's backlog can
be read before VIX's, whose partition may be another worker's; such a symbol waits
(`Waiting`), and is read again once VIX has come, rather than at its next bar, a day
later. A wait is lost with the worker: then the symbol's next bar reads it. Forecasts
carry the states of this table (lifecycle/host.py wires them in), so a forecast, the endpoint and
the events agree.
"""
import faust
import numpy as np
import orjson

from features.window import BarWindow
from regime.book import advance, asset_class, waits_for_context
from schemas import RegimeEvent, RegimeState, encode
from stream import metrics
from stream.tables import as_event, contexts, regime_states, symbol_regimes, windows
from stream.topics import regime_events

RETRY_S = 1.0  # how often readings that wait for VIX are tried again


class Waiting:
    """The symbols whose last bar found no VIX, each with that bar's event (their state is
    filed under its partition) and the window it made."""

    def __init__(self):
        self.held: dict[str, tuple[faust.types.EventT, BarWindow]] = {}

    def note(self, symbol: str, event, window: BarWindow, waits: bool) -> None:
        if waits:
            self.held[symbol] = (event, window)
        else:
            self.held.pop(symbol, None)

    def due(self) -> list[tuple[faust.types.EventT, BarWindow]]:
        """The waits to try again: those whose window is still the one that waited. A
        window that has moved on had its own bar read, and one no longer held here went
        with its partition."""
        due = []
        for symbol, (event, window) in list(self.held.items()):
            if windows.get(symbol) is window:
                due.append((event, window))
            else:
                del self.held[symbol]
        return due


def read(book, window, held: tuple[RegimeState, list[float]] | None, model_version: str):
    """(the regime on the window's last day, its state probabilities), one filter step on
    from `held` when it was read the day before under the same model, else afresh."""
    context = contexts.of(window.symbol)
    follows = (held is not None and len(window) > 1 and held[0].model_version == model_version
               and str(window.dates[-2]) == str(held[0].as_of))
    if follows and (stepped := book.step(window.symbol, window.dates, window.close, context,
                                         np.asarray(held[1]))) is not None:
        return stepped
    return book.reading(window.symbol, window.dates, window.close, context)


async def track(rt, joined: list) -> None:
    """`joined`: (event, the window after its bar), in the order the bars joined. Each
    symbol's state is written once per batch, its last, before any event is sent: the
    windows are stored once per batch too, so a request served meanwhile sees each window
    with its own regime."""
    service = (await rt.opened()).service
    if service.regime is None:
        return
    by_symbol: dict[str, list] = {}
    for event, window in joined:
        by_symbol.setdefault(window.symbol, []).append((event, window))
    news: list[RegimeEvent] = []
    for symbol, items in by_symbol.items():
        if asset_class(symbol) is None:
            continue
        held, last = regime_states(symbol), None
        for event, window in items:
            reading = read(service.regime, window, held, service.model_version)
            if reading is None:
                continue
            info, states = reading
            now = advance(held and held[0], symbol, window.last_date, info, service.model_version)
            held, last = (now, states), event
            news.append(now)
        event, window = items[-1]
        rt.regimes_waiting.note(symbol, event, window, last is not event and waits_for_context(
            symbol, window.dates, contexts.of(symbol)))
        if last is not None:
            with as_event(last):
                symbol_regimes[symbol.encode()] = encode_state(*held)
    for now in news:
        await regime_events.send(key=now.symbol.encode(), value=encode(now))
        metrics.regime_events_total.labels(now.kind).inc()


def install(rt) -> None:
    @rt.app.timer(interval=RETRY_S)
    async def read_waiting_regimes() -> None:
        if due := rt.regimes_waiting.due():
            await track(rt, due)


def encode_state(event: RegimeEvent, states: np.ndarray) -> bytes:
    """A symbol_regimes value: the state, and the filter's state probabilities behind it."""
    state = RegimeState(**event.model_dump(exclude={"kind"})).model_dump(mode="json", exclude_none=True)
    return orjson.dumps({"state": state, "states": states}, option=orjson.OPT_SERIALIZE_NUMPY)
