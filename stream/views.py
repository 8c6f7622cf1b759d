"""HTTP API on the worker's web server (port 8007): the Kafka flow, over HTTP.

The contract is `schemas/openapi.py`, served at /openapi.json. Every refusal carries
`{"error": {"code", "message"}}`.
"""
import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Callable
import math
import sys
import time
import uuid

import orjson
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from redis.exceptions import RedisError

from inference.serving import Ask
from persistence.queries import queries
from persistence.repositories.command_audit import CommandAuditRepository
from persistence.repositories.feature_importance import FeatureImportanceRepository
from persistence.repositories.model_jobs import ModelJobsRepository
from persistence.repositories.model_registry import (LifecycleError, ModelNotRegistered,
                                                        ModelRegistryRepository)
from persistence.repositories.validation import ValidationRepository
from schemas import (HORIZONS, BatchRequest, BatchResult, ForecastRequest, ForecastResult, RetrainCommand, SchemaError,
                     ServedForecast, decode, encode)
from schemas.events import check_symbol
from schemas.http import API_KEY_HEADER, USER_ID, PromoteCommand, RollbackCommand, TierChange
from schemas.openapi import document
from stream import access, metrics
from stream.app import app, settings
from stream.lifecycle import resources
from stream.readiness import readiness
from stream.registry import rollback
from stream.routing import FORWARDED_BY, forward, owner_elsewhere, served_by
from stream.tables import contexts, regime_states, surfaces, windows
from stream.topics import forecast_ledger, model_commands, send_risk_events

JSON = "application/json"
ERROR_STATUS = {"unknown_symbol": 404, "rate_limited": 429, "internal_error": 503}


def _json(view: View, body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return view.bytes(orjson.dumps(body), content_type=JSON, status=status, headers=headers)


def _error(view: View, status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return _json(view, {"error": {"code": code, "message": message}}, status, headers)


def _refused(view: View, request: Request, needs: str) -> Response | None:
    """401 or 403 when API keys are configured and the caller's key may not do this."""
    if (refusal := access.refusal(settings.access, request.headers.get(API_KEY_HEADER), needs)) is not None:
        status, message = refusal
        return _error(view, status, "unauthorized" if status == 401 else "forbidden", message)
    return None


def actor(request: Request) -> str:
    """Who a command is recorded under: the key's role and a fingerprint, never the key."""
    key = request.headers.get(API_KEY_HEADER)
    if key is None:
        return "anonymous"
    return f"{access.role_of(settings.access, key)}:{hashlib.sha256(key.encode()).hexdigest()[:12]}"


async def _body(request: Request) -> bytes | None:
    """The body, or None once it passes TFT_MAX_BODY_BYTES (read no further)."""
    limit = settings.stream.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    while chunk := await request.content.read(1 << 16):  # a chunked body has no length to check first
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(view: View) -> Response:
    limit = settings.stream.max_body_bytes
    return _error(view, 413, "too_large", f"the body is over TFT_MAX_BODY_BYTES ({limit} bytes)")


async def _decoded(view: View, request: Request, model: type, needs: str) -> tuple[object, Response | None]:
    """(the body as `model`, None), or (None, the refusal): a key, its size, its content."""
    if (refused := _refused(view, request, needs)) is not None:
        return None, refused
    if (raw := await _body(request)) is None:
        return None, _too_large(view)
    try:
        return decode(model, raw), None
    except SchemaError as e:
        return None, _error(view, 422, "invalid_request", str(e))


def _starting(view: View) -> Response:
    return _error(view, 503, "starting", "the worker is starting: waiting for " + ", ".join(readiness.waiting),
                  {"Retry-After": "1"})


async def _serve_here(requests: list[ForecastRequest], received: float) -> list[ForecastResult]:
    """Serve requests for symbols this worker holds; each answer waits for its ledger
    record to be on Kafka, so its rows cannot be lost."""
    asks = [Ask(r, r.request_id or str(uuid.uuid4()), windows.get(r.symbol), contexts.of(r.symbol), received)
            for r in requests]
    outcomes = await resources.serving.serve(asks)
    sent = []
    for ask, outcome in zip(asks, outcomes):
        w = ask.window
        sent.append(await forecast_ledger.send(key=ask.request.symbol.encode(), value=encode(ServedForecast(
            request=ask.request, result=outcome.result, source="http",
            last_close=float(w.close[-1]) if w is not None and len(w) else None))))
        metrics.count_result("http", outcome.result)
        await send_risk_events(ask.request.symbol.encode(), outcome.risk_events)
    await asyncio.gather(*sent)
    metrics.request_latency.labels(source="http").observe(time.monotonic() - received)
    return [o.result for o in outcomes]


@app.page("/forecast/generate")
class GenerateForecast(View):
    async def post(self, request: Request) -> Response:
        received = time.monotonic()
        body, refused = await _decoded(self, request, ForecastRequest, "reader")
        if refused is not None:
            return refused
        owner = None if FORWARDED_BY in request.headers else owner_elsewhere(body.symbol)
        if owner is not None:
            status, answer, headers = await forward(owner, request, encode(body))
            return self.bytes(answer, content_type=JSON, status=status, headers=headers)
        if not readiness.ready:
            return _starting(self)
        (result,) = await _serve_here([body], received)
        headers = served_by()
        status = 200
        if result.error is not None:
            status = ERROR_STATUS.get(result.error.code, 422)
            if result.error.retry_after_s is not None:
                headers["Retry-After"] = str(max(1, math.ceil(result.error.retry_after_s)))
        return self.bytes(encode(result), content_type=JSON, status=status, headers=headers)


@app.page("/forecast/batch")
class GenerateBatch(View):
    """Every symbol's forecast; a symbol that cannot be served is an error entry of its
    own. Symbols held by other workers go to each owner as one smaller batch."""

    async def post(self, request: Request) -> Response:
        received = time.monotonic()
        body, refused = await _decoded(self, request, BatchRequest, "reader")
        if refused is not None:
            return refused
        if not readiness.ready:
            return _starting(self)
        batch_id = body.batch_id or str(uuid.uuid4())
        members = body.members(batch_id)
        here, elsewhere = [], defaultdict(list)
        for m in members:
            owner = None if FORWARDED_BY in request.headers else owner_elsewhere(m.symbol)
            (here if owner is None else elsewhere[owner]).append(m)
        results = {r.symbol: r for r in await _serve_here(here, received)}
        for owner, part in elsewhere.items():
            sub = body.model_copy(update={"batch_id": batch_id, "symbols": [m.symbol for m in part]})
            status, answer, _ = await forward(owner, request, encode(sub))
            if status != 200:
                return self.bytes(answer, content_type=JSON, status=status)
            results |= {r.symbol: r for r in decode(BatchResult, answer).results}
        return self.bytes(encode(BatchResult(batch_id=batch_id, results=[results[m.symbol] for m in members])),
                          content_type=JSON, headers=served_by())


def _held_for(view: View, request: Request, symbol: str, find: Callable[[str], dict | None],
              missing: str) -> Response:
    """A reader's look at what is held for one symbol: 422 for a name that is not a symbol,
    404 with `missing` (formatted with the symbol) when nothing is held."""
    if (refused := _refused(view, request, "reader")) is not None:
        return refused
    try:
        symbol = check_symbol(symbol)
    except ValueError as e:
        return _error(view, 422, "invalid_request", f"symbol: {e}")
    found = find(symbol)
    if found is None:
        return _error(view, 404, "not_found", missing.format(symbol=symbol))
    return _json(view, found)


@app.page("/market/regime/{symbol}")
class MarketRegime(View):
    """A symbol's regime as of its last bar: probabilities, confidence, since when, for how
    many sessions, and the regime before it. Any worker answers: the states are global."""

    async def get(self, request: Request, symbol: str) -> Response:
        def state(symbol: str) -> dict | None:
            held = regime_states(symbol)
            return None if held is None else held[0].model_dump(mode="json", exclude_none=True)
        return _held_for(self, request, symbol, state, "no regime for {symbol}: no bars of it yet, too few, "
                                                       "or not a traded price series")


@app.page("/market/options/{symbol}")
class OptionSurface(View):
    """A symbol's latest option surface, fitted from its last chain on options.quotes."""

    async def get(self, request: Request, symbol: str) -> Response:
        def surface(symbol: str) -> dict | None:
            info = surfaces.info(symbol)
            return None if info is None else info.model_dump(mode="json")
        return _held_for(self, request, symbol, surface, "no option chain of {symbol} has been fitted")


@app.page("/features/{symbol}/importance")
class FeatureImportance(View):
    async def get(self, request: Request, symbol: str) -> Response:
        if (refused := _refused(self, request, "reader")) is not None:
            return refused
        try:
            horizon = int(request.query.get("horizon", "5"))
        except ValueError:
            return _error(self, 422, "invalid_request", "horizon must be an integer")
        if horizon not in HORIZONS:
            return _error(self, 422, "invalid_request", f"unknown horizon {horizon}; supported: {list(HORIZONS)}")
        if symbol != "*":
            try:
                symbol = check_symbol(symbol)
            except ValueError as e:
                return _error(self, 422, "invalid_request", f"symbol: {e}")
        version = (await resources.opened()).service.model_version
        async with resources.pool.acquire() as conn:
            rows = await FeatureImportanceRepository(conn).for_symbol(
                model_version=version, symbol=symbol, horizon=horizon)
        if not rows:
            return _error(self, 404, "not_found", f"no importance stored for {symbol} under {version}; "
                                                  "run `tft-forecast interpret --store`")
        return _json(self, {"symbol": symbol, "horizon": horizon, "model_version": version, "features": rows})


@app.page("/users/{user_id}/tier")
class UserTier(View):
    """An operator sets the rate-limit tier a user is counted under; the change is audited."""

    async def put(self, request: Request, user_id: str) -> Response:
        if (refused := _refused(self, request, "operator")) is not None:
            await _audit("set_tier", request, {"user_id": user_id}, "refused", "key refused")
            return refused
        try:
            USER_ID.validate_python(user_id)
            user_id.encode()  # a path may decode to lone surrogates, which no database takes
        except (ValidationError, UnicodeEncodeError):
            return _error(self, 422, "invalid_request", "user_id must be 1-128 characters, none of them control "
                                                        "characters")
        if (raw := await _body(request)) is None:
            return _too_large(self)
        try:
            change = decode(TierChange, raw)
        except SchemaError as e:
            return _error(self, 422, "invalid_request", str(e))
        await resources.opened()
        gate = resources.gate
        params = {"user_id": user_id, "tier": change.tier}
        try:
            await gate.set_tier(user_id, change.tier)
        except KeyError as e:
            await _audit("set_tier", request, params, "refused", e.args[0])
            return _error(self, 422, "invalid_request", e.args[0])
        except (RedisError, OSError) as e:
            return _error(self, 503, "unavailable", f"Redis, which holds the tiers, is away ({type(e).__name__})",
                          {"Retry-After": "1"})
        await _audit("set_tier", request, params, "accepted")
        return _json(self, {"user_id": user_id, "tier": change.tier, "limit_per_minute": gate.limits[change.tier]})


async def _audit(command: str, request: Request, params: dict, status: str, reason: str | None = None) -> None:
    await resources.opened()
    async with resources.pool.acquire() as conn:
        await CommandAuditRepository(conn).insert(command=command, actor=actor(request), source="http",
                                                  params=params, status=status, reason=reason)


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
        if (refused := _refused(self, request, "reader")) is not None:
            return refused
        forecaster = (await resources.opened()).service.forecaster
        predecessor = resources.shadow
        by = request.query.get("accuracy_by", "all")
        if by not in ("all", "symbol", "regime"):
            return _error(self, 422, "invalid_request", "accuracy_by must be all, symbol or regime")
        async with resources.pool.acquire() as conn:
            accuracy = await ValidationRepository(conn).accuracy(forecaster.version, by)
            history = await ModelRegistryRepository(conn).history()
            shadow = predecessor and await ValidationRepository(conn).versus_shadow(
                forecaster.version, predecessor.version)
        return _json(self, {
            "model_version": forecaster.version,
            "min_history": forecaster.min_history,
            "max_batch": settings.inference.max_batch,
            "max_wait_ms": settings.inference.max_wait_ms,
            "window_bars": settings.stream.window_bars,
            "model": forecaster.describe(),
            "live_accuracy": {"by": by, "rows": accuracy},
            "shadow": shadow and shadow | {"version": predecessor.version,
                                           "rollback_after_n": settings.triggers.rollback_min_n,
                                           "rollback_margin": settings.triggers.rollback_margin},
            "versions": history,  # the registry, newest first: status, who promoted, why, the gate
        })


@app.page("/metrics")
class Metrics(View):
    async def get(self, request: Request) -> Response:
        return self.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])


@app.page("/openapi.json")
class OpenAPI(View):
    async def get(self, request: Request) -> Response:
        return _json(self, document((await resources.opened()).service.model_version))


@app.page("/model/promote")
class Promote(View):
    """Runs `tft-forecast promote` in a process of its own: the gate's backtests stay off
    this worker's event loop, and forecasts keep flowing meanwhile."""

    async def post(self, request: Request) -> Response:
        body, refused = await _decoded(self, request, PromoteCommand, "operator")
        if refused is not None:
            await _audit("promote", request, {}, "refused", "key refused or invalid body")
            return refused
        await resources.opened()
        async with resources.pool.acquire() as conn:
            try:
                await ModelRegistryRepository(conn).get(version=body.version)
            except ModelNotRegistered as e:
                return _error(self, 404, "not_found", f"{e}; register it with `tft-forecast register`")
        args = [sys.executable, "-m", "stream", "promote", body.version, "--by", actor(request),
                "--source", "http", "--reason", body.reason, *(["--force"] if body.force else [])]
        proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        if proc.returncode not in (0, 3):
            return _error(self, 422, "promotion_failed", err.decode(errors="replace").strip().splitlines()[-1]
                          if err.strip() else f"promote exited with {proc.returncode}")
        record = orjson.loads(out[out.index(b"{"):])
        return _json(self, record, 200 if record["promoted"] else 409)


@app.page("/model/rollback")
class Rollback(View):
    async def post(self, request: Request) -> Response:
        body, refused = await _decoded(self, request, RollbackCommand, "operator")
        if refused is not None:
            await _audit("rollback", request, {}, "refused", "key refused or invalid body")
            return refused
        try:
            record = await rollback(settings.persistence.database_url, actor(request), body.reason, "http")
        except LifecycleError as e:
            await _audit("rollback", request, {}, "refused", str(e))
            return _error(self, 409, "nothing_to_roll_back", str(e))
        return _json(self, record)


@app.page("/model/retrain")
class Retrain(View):
    """Queues a retraining job (on model.commands) and answers its id at once."""

    async def post(self, request: Request) -> Response:
        body, refused = await _decoded(self, request, RetrainCommand, "operator")
        if refused is not None:
            await _audit("retrain", request, {}, "refused", "key refused or invalid body")
            return refused
        command = body.model_copy(update={"job_id": f"http-{uuid.uuid4().hex[:12]}"})
        await _audit("retrain", request, command.model_dump(), "accepted", command.reason)
        await (await model_commands.send(key=command.job_id.encode(), value=encode(command)))
        return _json(self, {"job_id": command.job_id, "status": "queued",
                            "follow": f"GET /model/jobs/{command.job_id}, or model.events"}, 202)


@app.page("/model/jobs/{job_id}")
class Job(View):
    async def get(self, request: Request, job_id: str) -> Response:
        if (refused := _refused(self, request, "reader")) is not None:
            return refused
        await resources.opened()
        async with resources.pool.acquire() as conn:
            job = await ModelJobsRepository(conn).get(job_id)
        if job is None:
            return _error(self, 404, "not_found", f"no job {job_id!r}")
        return _json(self, job)
