"""forecast.requests -> forecast.results (+ risk.events). Concurrent actors feed one
micro-batcher, so requests that arrive together share a forward pass."""
import time

from schemas import ForecastRequest, SchemaError, decode, encode
from stream import metrics
from stream.app import app, settings
from stream.dlq import send_dead_letter
from stream.keys import check_key
from stream.runtime import get_runtime
from stream.tables import current_context, window_of
from stream.topics import FORECAST_REQUESTS, forecast_requests, forecast_results, risk_events


@app.agent(forecast_requests, concurrency=settings.inference.max_batch)
async def serve_forecasts(stream):
    async for event in stream.events():
        received = time.perf_counter()
        try:
            request = decode(ForecastRequest, event.value)
            check_key(event.key, request.symbol)
        except SchemaError as e:
            await send_dead_letter(event, FORECAST_REQUESTS, str(e))
            continue
        # A redelivered request without an id gets the same id again: one row, not two.
        msg = event.message
        request_id = request.request_id or f"{msg.topic}:{msg.partition}:{msg.offset}"
        runtime = await get_runtime(settings)
        outcome = await runtime.serve(request, request_id, window_of(request.symbol),
                                      current_context(request.symbol), "kafka", received)
        key = request.symbol.encode()
        await forecast_results.send(key=key, value=encode(outcome.result))
        for risk in outcome.risk_events:
            await risk_events.send(key=key, value=encode(risk))
            metrics.risk_events_total.labels(kind=risk.kind).inc()
