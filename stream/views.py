"""HTTP API on the worker's web server (port 8007): the Kafka flow, over HTTP."""
import time
import uuid

import orjson
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from persistence.repositories.feature_importance import FeatureImportanceRepository
from schemas import HORIZONS, ForecastRequest, SchemaError, decode, encode
from stream.app import app, settings
from stream.routing import FORWARDED_BY, forward, owner_elsewhere, served_by
from stream.runtime import get_runtime
from stream.tables import current_context, window_of

JSON = "application/json"


def _json(view: View, body: dict, status: int = 200) -> Response:
    return view.bytes(orjson.dumps(body), content_type=JSON, status=status)


@app.page("/forecast/generate")
class GenerateForecast(View):
    async def post(self, request: Request) -> Response:
        received = time.perf_counter()
        raw = await request.read()
        try:
            body = decode(ForecastRequest, raw)
        except SchemaError as e:
            return _json(self, {"error": {"code": "invalid_request", "message": str(e)}}, 422)
        owner = None if FORWARDED_BY in request.headers else owner_elsewhere(body.symbol)
        if owner is not None:
            status, answer, headers = await forward(owner, request, raw)
            return self.bytes(answer, content_type=JSON, status=status, headers=headers)
        runtime = await get_runtime(settings)
        outcome = await runtime.serve(body, body.request_id or str(uuid.uuid4()),
                                      window_of(body.symbol), current_context(body.symbol), "http", received)
        result = outcome.result
        status = 200 if result.status == "ok" else {
            "unknown_symbol": 404, "rate_limited": 429, "internal_error": 503}.get(result.error.code, 422)
        return self.bytes(encode(result), content_type=JSON, status=status, headers=served_by())


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
        runtime = await get_runtime(settings)
        version = runtime.service.model_version
        async with runtime.pool.acquire() as conn:
            rows = await FeatureImportanceRepository(conn).for_symbol(
                model_version=version, symbol=symbol.upper(), horizon=horizon)
        if not rows:
            return _json(self, {"error": {"code": "not_found", "message":
                                          f"no importance stored for {symbol.upper()} under {version}; "
                                          "run `tft-forecast interpret --store`"}}, 404)
        return _json(self, {"symbol": symbol.upper(), "horizon": horizon, "model_version": version,
                            "features": rows})


@app.page("/health")
class Health(View):
    async def get(self, request: Request) -> Response:
        checks = {}
        try:
            runtime = await get_runtime(settings)
            async with runtime.pool.acquire() as conn:
                checks["postgres"] = await conn.fetchval("SELECT 1") == 1
            checks["redis"] = bool(await runtime.redis.ping())
        except Exception as e:  # health reports every failure rather than raising it
            checks["error"] = f"{type(e).__name__}: {e}"
        checks["kafka"] = bool(app.consumer.assignment())
        ok = all(v is True for k, v in checks.items() if k != "error") and "error" not in checks
        return _json(self, {"status": "ok" if ok else "degraded", "checks": checks}, 200 if ok else 503)


@app.page("/model/status")
class ModelStatus(View):
    async def get(self, request: Request) -> Response:
        runtime = await get_runtime(settings)
        forecaster = runtime.service.forecaster
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
