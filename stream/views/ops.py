"""What operators and orchestrators ask: liveness, readiness, health, metrics, the HTTP
API's document and the Kafka topics', and each user's rate-limit tier."""
import asyncio

from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from redis.exceptions import RedisError

from persistence.queries import queries
from schemas import SchemaError, decode
from schemas.http import USER_ID, TierChange
from schemas.openapi import document
from stream import asyncapi
from stream.views.replies import audit, body, error, json, refused, too_large


async def broker(rt) -> str:
    """The broker's check: it answers a metadata request within a second, and this worker
    holds partitions. An assignment alone says nothing while the broker is out of reach:
    the worker keeps it until it gets back, and only then hears that the group moved on."""
    try:
        async with asyncio.timeout(1.0):
            # Faust's own producer, on this event loop: no connection of its own to open
            await rt.app.producer._ensure_producer().client.fetch_all_metadata()
    except Exception as e:  # noqa: BLE001 - reported, not raised
        return f"degraded: the broker does not answer, requests wait in Kafka ({type(e).__name__})"
    return "ok" if rt.app.consumer.assignment() else "unassigned"


async def health(rt) -> tuple[str, dict]:
    """(status, each dependency's check): degraded dependencies are said, not raised."""
    waiting = rt.readiness.waiting
    checks = {"kafka": await broker(rt)}
    if rt.is_open:
        try:
            async with asyncio.timeout(1.0):
                async with rt.pool.acquire() as conn:
                    await conn.fetchval(queries("health")["ping"])
            checks["postgres"] = "ok"
        except Exception as e:  # noqa: BLE001 - reported, not raised
            checks["postgres"] = f"degraded: rows wait in Kafka ({type(e).__name__})"
        try:
            async with asyncio.timeout(1.0):
                await rt.redis.ping()
            checks["redis"] = "ok"
        except Exception as e:  # noqa: BLE001
            checks["redis"] = f"degraded: per-worker rate limits, no shared cache ({type(e).__name__})"
    return "starting" if waiting else "ok" if all(v == "ok" for v in checks.values()) else "degraded", checks


def install(rt) -> None:
    settings = rt.settings

    @rt.app.page("/users/{user_id}/tier")
    class UserTier(View):
        """An operator sets the rate-limit tier a user is counted under; the change is audited."""

        async def put(self, request: Request, user_id: str) -> Response:
            if (refusal := refused(settings, self, request, "operator")) is not None:
                await audit(rt, "set_tier", request, {"user_id": user_id}, "refused", "key refused")
                return refusal
            try:
                USER_ID.validate_python(user_id)
                user_id.encode()  # a path may decode to lone surrogates, which no database takes
            except (ValidationError, UnicodeEncodeError):
                return error(self, 422, "invalid_request", "user_id must be 1-128 characters, none of them control "
                                                           "characters")
            if (raw := await body(settings, request)) is None:
                return too_large(settings, self)
            try:
                change = decode(TierChange, raw)
            except SchemaError as e:
                return error(self, 422, "invalid_request", str(e))
            await rt.opened()
            gate = rt.gate
            params = {"user_id": user_id, "tier": change.tier}
            try:
                await gate.set_tier(user_id, change.tier)
            except KeyError as e:
                await audit(rt, "set_tier", request, params, "refused", e.args[0])
                return error(self, 422, "invalid_request", e.args[0])
            except (RedisError, OSError) as e:
                return error(self, 503, "unavailable", f"Redis, which holds the tiers, is away ({type(e).__name__})",
                             {"Retry-After": "1"})
            await audit(rt, "set_tier", request, params, "accepted")
            return json(self, {"user_id": user_id, "tier": change.tier, "limit_per_minute": gate.limits[change.tier]})

    @rt.app.page("/live")
    class Live(View):
        """Liveness: the event loop answers. A dependency being away is not a reason to restart."""

        async def get(self, request: Request) -> Response:
            return json(self, {"status": "alive"})

    @rt.app.page("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            waiting = rt.readiness.waiting
            return json(self, {"ready": not waiting, "waiting_for": waiting}, 503 if waiting else 200)

    @rt.app.page("/health")
    class Health(View):
        """Ready, and which dependencies are degraded: 200 while forecasts can be served."""

        async def get(self, request: Request) -> Response:
            status, checks = await health(rt)
            waiting = rt.readiness.waiting
            return json(self, {"status": status, "waiting_for": waiting, "checks": checks}, 503 if waiting else 200)

    @rt.app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @rt.app.page("/openapi.json")
    class OpenAPI(View):
        async def get(self, request: Request) -> Response:
            return json(self, document((await rt.opened()).service.model_version))

    topics_document = asyncapi.document()  # of the code, not of the model served: the same all the worker's life

    @rt.app.page("/asyncapi.json")
    class AsyncAPI(View):
        async def get(self, request: Request) -> Response:
            return json(self, topics_document)
