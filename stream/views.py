"""HTTP API on the worker's web server (port 8007): the Kafka flow, over HTTP."""
import asyncio
import math
import time
import uuid

import orjson
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from inference.serving import Ask
from persistence.queries import queries
from persistence.repositories.feature_importance import FeatureImportanceRepository
from schemas import HORIZONS, ForecastRequest, SchemaError, ServedForecast, decode, encode
from stream import metrics
from stream.app import app, settings
from stream.lifecycle import resources
from stream.readiness import readiness
from stream.routing import FORWARDED_BY, forward, owner_elsewhere, served_by
from stream.tables import contexts, windows
from stream.topics import forecast_ledger

JSON = "application/json"
ERROR_STATUS = {"unknown_symbol": 404, "rate_limited": 429, "internal_error": 503}


def _json(view: View, body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return view.bytes(orjson.dumps(body), content_type=JSON, status=status, headers=headers)


@app.page("/forecast/generate")
class GenerateForecast(View):
    async def post(self, request: Request) -> Response:
        received = time.monotonic()
        raw = await request.read()
        try:
            body = decode(ForecastRequest, raw)
        except SchemaError as e:
            return _json(self, {"error": {"code": "invalid_request", "message": str(e)}}, 422)
        owner = None if FORWARDED_BY in request.headers else owner_elsewhere(body.symbol)
        if owner is not None:
            status, answer, headers = await forward(owner, request, raw)
            return self.bytes(answer, content_type=JSON, status=status, headers=headers)
        if not readiness.ready:
            return _json(self, {"error": {"code": "starting", "message": "the worker is starting: waiting for "
                                          + ", ".join(readiness.waiting)}}, 503, headers={"Retry-After": "1"})
        serving = resources.serving
        window = windows.get(body.symbol)
        ask = Ask(body, body.request_id or str(uuid.uuid4()), window, contexts.of(body.symbol), received)
        (outcome,) = await serving.serve([ask])
        result = outcome.result
        # The answer waits for its ledger record to be on Kafka: its rows cannot be lost.
        await (await forecast_ledger.send(key=body.symbol.encode(), value=encode(ServedForecast(
            request=body, result=result, source="http",
            last_close=float(window.close[-1]) if window is not None and len(window) else None))))
        metrics.requests_total.labels(source="http", status=result.status).inc()
        metrics.request_latency.labels(source="http").observe(time.monotonic() - received)
        headers = served_by()
        status = 200
        if result.error is not None:
            status = ERROR_STATUS.get(result.error.code, 422)
            if result.error.retry_after_s is not None:
                headers["Retry-After"] = str(max(1, math.ceil(result.error.retry_after_s)))
        return self.bytes(encode(result), content_type=JSON, status=status, headers=headers)


@app.page("/features/{symbol}/importance")
class FeatureImportance(View):
    async def get(self, request: Request, symbol: str) -> Response:
        try:
            horizon = int(request.query.get("horizon", "5"))
        except ValueError:
            return _json(self, {"error": {"code": "invalid_request", "message": "horizon must be an integer"}}, 422)
        if horizon not in HORIZONS:
            return _json(self, {"error": {"code": "invalid_request",
                                          "message": f"unknown horizon {horizon}; supported: {list(HORIZONS)}"}}, 422)
        version = (await resources.opened()).service.model_version
        async with resources.pool.acquire() as conn:
            rows = await FeatureImportanceRepository(conn).for_symbol(
                model_version=version, symbol=symbol.upper(), horizon=horizon)
        if not rows:
            return _json(self, {"error": {"code": "not_found", "message":
                                          f"no importance stored for {symbol.upper()} under {version}; "
                                          "run `tft-forecast interpret --store`"}}, 404)
        return _json(self, {"symbol": symbol.upper(), "horizon": horizon, "model_version": version,
                            "features": rows})


@app.page("/live")
class Live(View):
    """Liveness: the event loop answers. A dependency being away is not a reason to restart."""

    async def get(self, request: Request) -> Response:
        return _json(self, {"status": "alive"})


@app.page("/ready")
class Ready(View):
    async def get(self, request: Request) -> Response:
        waiting = readiness.waiting
        return _json(self, {"ready": not waiting, "waiting_for": waiting}, 503 if waiting else 200)


@app.page("/health")
class Health(View):
    """Ready, and which dependencies are degraded: 200 while forecasts can be served."""

    async def get(self, request: Request) -> Response:
        waiting = readiness.waiting
        checks = {"kafka": "ok" if app.consumer.assignment() else "unassigned"}
        if resources.is_open:
            try:
                async with asyncio.timeout(1.0):
                    async with resources.pool.acquire() as conn:
                        await conn.fetchval(queries("health")["ping"])
                checks["postgres"] = "ok"
            except Exception as e:  # noqa: BLE001 - reported, not raised
                checks["postgres"] = f"degraded: rows wait in Kafka ({type(e).__name__})"
            try:
                async with asyncio.timeout(1.0):
                    await resources.redis.ping()
                checks["redis"] = "ok"
            except Exception as e:  # noqa: BLE001
                checks["redis"] = f"degraded: per-worker rate limits, no shared cache ({type(e).__name__})"
        status = "starting" if waiting else "ok" if all(v == "ok" for v in checks.values()) else "degraded"
        return _json(self, {"status": status, "waiting_for": waiting, "checks": checks},
                     503 if waiting else 200)


@app.page("/model/status")
class ModelStatus(View):
    async def get(self, request: Request) -> Response:
        forecaster = (await resources.opened()).service.forecaster
        return _json(self, {
            "model_version": forecaster.version,
            "min_history": forecaster.min_history,
            "max_batch": settings.inference.max_batch,
            "max_wait_ms": settings.inference.max_wait_ms,
            "window_bars": settings.stream.window_bars,
            "model": forecaster.describe(),
        })


@app.page("/metrics")
class Metrics(View):
    async def get(self, request: Request) -> Response:
        return self.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])
