"""forecast.requests -> forecast.results (+ risk.events, + forecast.ledger for the sink).

One actor per agent, taking requests a batch at a time: Faust acknowledges a batch only
when the next is asked for, so an offset is never committed past a request still being
served (with concurrency above 1 it can be: faust-streaming #606). The batch shares
its Redis round trips and one forward pass for the symbols that need one. Faust
flushes the producer before it commits, so a committed request has its result, and
its ledger record, on Kafka.
"""
import logging
import time

from inference.serving import Ask
from schemas import BatchRequest, ErrorInfo, ForecastRequest, SchemaError, decode, encode
from schemas.portfolio import PortfolioRequest, PortfolioResult
from stream import access, metrics
from stream.answers import serve
from stream.batches import at_home, batches
from stream.books import serve_book
from stream.dlq import send_dead_letter
from stream.keys import check_key, check_size
from stream.tables import contexts, windows
from stream.topics import FORECAST_REQUESTS, forecast_requests, forecast_results, requests_by_symbol

log = logging.getLogger(__name__)


def requests_in(event) -> list[ForecastRequest | PortfolioRequest]:
    """A single request, its key checked, the members of a batch (a value with `symbols`,
    whose key is its producer's: members go by symbol), or a book (a value with
    `weights`, served where it lands). Only a value that is no single request is read as
    another form, so the single path pays nothing for them."""
    raw, msg = event.value, event.message
    try:
        request = decode(ForecastRequest, raw)
    except SchemaError:
        if b'"weights"' in raw:
            return [decode(PortfolioRequest, raw)]
        if b'"symbols"' not in raw:
            raise
        batch = decode(BatchRequest, raw)
        return batch.members(batch.batch_id or f"{msg.topic}:{msg.partition}:{msg.offset}")
    check_key(event.key, request.symbol)
    return [request]


def request_id(request: ForecastRequest | PortfolioRequest, msg) -> str:
    """A request without an id is named by where it first arrived: a redelivery gets the
    same name, and so one row, not two."""
    return request.request_id or f"{msg.topic}:{msg.partition}:{msg.offset}"


async def decoded(rt, events) -> list[tuple[object, ForecastRequest | PortfolioRequest]]:
    out = []
    for event in events:
        try:
            check_size(event.value, rt.settings.stream.max_event_bytes)
            requests = requests_in(event)
        except SchemaError as e:
            await send_dead_letter(rt.delivery, event, FORECAST_REQUESTS, str(e))
            continue
        out += [(event, r) for r in requests]
    return out


async def serve_events(rt, items: list[tuple[object, ForecastRequest]]) -> None:
    if not items:
        return
    asks = [Ask(r, request_id(r, e.message), windows.get(r.symbol), contexts.of(r.symbol),
                e.message.time_in or time.monotonic()) for e, r in items]
    outcomes, _ = await serve(rt, asks, "kafka", [e for e, _ in items])
    for outcome in outcomes:
        metrics.request_latency.labels(source="kafka").observe(outcome.result.latency_ms / 1000)


async def serve_books(rt, items: list[tuple[object, PortfolioRequest]]) -> None:
    """Each book answered on forecast.results; one that fails in a way no member's result
    says is an internal_error answer of its own, never an agent that stops."""
    for event, book in items:
        rid, received = request_id(book, event.message), event.message.time_in or time.monotonic()
        try:
            result = await serve_book(rt, book, rid, received, "kafka", event,
                                      api_key=access.peer_key(rt.settings.access))
        except Exception as e:  # noqa: BLE001 - answered, and logged with its trace
            log.exception("book %s failed", rid)
            result = PortfolioResult(request_id=rid, status="error", model_version="", weights=book.weights,
                                     error=ErrorInfo(code="internal_error", message=f"{type(e).__name__}: {e}"),
                                     latency_ms=(time.monotonic() - received) * 1000)
        await rt.delivery.send(forecast_results, rid.encode(), encode(result), event)
        metrics.request_latency.labels(source="kafka").observe(result.latency_ms / 1000)


def named(event, request: ForecastRequest) -> bytes:
    """A forwarded request is named where it first arrived: its id does not depend on the hop."""
    return encode(request.model_copy(update={"request_id": request_id(request, event.message)}))


def install(rt) -> None:
    max_batch, within_s = rt.settings.inference.max_batch, rt.settings.stream.batch_within_ms / 1000

    @rt.app.agent(forecast_requests)
    async def serve_forecasts(stream):
        async for events in batches(stream, max_batch, within_s):
            items = await decoded(rt, events)
            singles = [(e, r) for e, r in items if not isinstance(r, PortfolioRequest)]
            await serve_events(rt, await at_home(rt.delivery, singles, requests_by_symbol, FORECAST_REQUESTS, named))
            await serve_books(rt, [(e, r) for e, r in items if isinstance(r, PortfolioRequest)])
            await rt.delivery.done(rt.app, events)

    @rt.app.agent(requests_by_symbol)
    async def serve_forwarded_forecasts(stream):
        async for events in batches(stream, max_batch, within_s):
            await serve_events(rt, await decoded(rt, events))
            await rt.delivery.done(rt.app, events)
