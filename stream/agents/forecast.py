"""forecast.requests -> forecast.results (+ risk.events, + forecast.ledger for the sink).

One actor per agent, taking requests a batch at a time: Faust acknowledges a batch only
when the next is asked for, so an offset is never committed past a request still being
served (with concurrency above 1 it can be: faust-streaming #606). The batch shares
its Redis round trips and one forward pass for the symbols that need one. Faust
flushes the producer before it commits, so a committed request has its result, and
its ledger record, on Kafka.
"""
import time

from inference.serving import Ask
from schemas import BatchRequest, ForecastRequest, SchemaError, ServedForecast, decode, encode
from stream import metrics
from stream.app import app, settings
from stream.batches import at_home, batches
from stream.dlq import send_dead_letter
from stream.keys import check_key, check_size
from stream.lifecycle import resources
from stream.tables import contexts, windows
from stream.topics import (FORECAST_REQUESTS, forecast_ledger, forecast_requests, forecast_results,
                           requests_by_symbol, send_risk_events)

_i = settings.inference
_within_s = settings.stream.batch_within_ms / 1000


def requests_in(event) -> list[ForecastRequest]:
    """A single request, its key checked, or the members of a batch (a value with
    `symbols`, whose key is its producer's: members go by symbol). Only a value that is
    no single request is read as a batch, so the single path pays nothing for it."""
    raw, msg = event.value, event.message
    try:
        request = decode(ForecastRequest, raw)
    except SchemaError:
        if b'"symbols"' not in raw:
            raise
        batch = decode(BatchRequest, raw)
        return batch.members(batch.batch_id or f"{msg.topic}:{msg.partition}:{msg.offset}")
    check_key(event.key, request.symbol)
    return [request]


def request_id(request: ForecastRequest, msg) -> str:
    """A request without an id is named by where it first arrived: a redelivery gets the
    same name, and so one row, not two."""
    return request.request_id or f"{msg.topic}:{msg.partition}:{msg.offset}"


async def decoded(events) -> list[tuple[object, ForecastRequest]]:
    out = []
    for event in events:
        try:
            check_size(event.value, settings.stream.max_event_bytes)
            requests = requests_in(event)
        except SchemaError as e:
            await send_dead_letter(event, FORECAST_REQUESTS, str(e))
            continue
        out += [(event, r) for r in requests]
    return out


async def serve(items: list[tuple[object, ForecastRequest]]) -> None:
    if not items:
        return
    serving = await resources.opened()
    asks = [Ask(r, request_id(r, e.message), windows.get(r.symbol), contexts.of(r.symbol),
                e.message.time_in or time.monotonic()) for e, r in items]
    outcomes = await serving.serve(asks)
    for ask, outcome in zip(asks, outcomes):
        key = ask.request.symbol.encode()
        result = outcome.result
        await forecast_results.send(key=key, value=encode(result))
        last_close = float(ask.window.close[-1]) if ask.window is not None and len(ask.window) else None
        await forecast_ledger.send(key=key, value=encode(ServedForecast(
            request=ask.request, result=result, source="kafka", last_close=last_close)))
        await send_risk_events(key, outcome.risk_events)
        metrics.count_result("kafka", result)
        metrics.request_latency.labels(source="kafka").observe(result.latency_ms / 1000)


@app.agent(forecast_requests)
async def serve_forecasts(stream):
    async for events in batches(stream, _i.max_batch, _within_s):
        await serve(await at_home(await decoded(events), requests_by_symbol, FORECAST_REQUESTS, named))


def named(event, request: ForecastRequest) -> bytes:
    """A forwarded request is named where it first arrived: its id does not depend on the hop."""
    return encode(request.model_copy(update={"request_id": request_id(request, event.message)}))


@app.agent(requests_by_symbol)
async def serve_forwarded_forecasts(stream):
    async for events in batches(stream, _i.max_batch, _within_s):
        await serve(await decoded(events))
