"""What every view shares: JSON answers, refusals, API keys and bodies read within limits."""
import hashlib

import orjson
from faust.web import Request, Response, View

from persistence.repositories.command_audit import CommandAuditRepository
from schemas import SchemaError, decode
from schemas.http import API_KEY_HEADER
from stream import access
from stream.settings import Settings

JSON = "application/json"


def json(view: View, body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return view.bytes(orjson.dumps(body), content_type=JSON, status=status, headers=headers)


def error(view: View, status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return json(view, {"error": {"code": code, "message": message}}, status, headers)


def refused(settings: Settings, view: View, request: Request, needs: str) -> Response | None:
    """401 or 403 when API keys are configured and the caller's key may not do this."""
    if (refusal := access.refusal(settings.access, request.headers.get(API_KEY_HEADER), needs)) is not None:
        status, message = refusal
        return error(view, status, "unauthorized" if status == 401 else "forbidden", message)
    return None


def actor(settings: Settings, request: Request) -> str:
    """Who a command is recorded under: the key's role and a fingerprint, never the key."""
    key = request.headers.get(API_KEY_HEADER)
    if key is None:
        return "anonymous"
    return f"{access.role_of(settings.access, key)}:{hashlib.sha256(key.encode()).hexdigest()[:12]}"


async def body(settings: Settings, request: Request) -> bytes | None:
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


def too_large(settings: Settings, view: View) -> Response:
    limit = settings.stream.max_body_bytes
    return error(view, 413, "too_large", f"the body is over TFT_MAX_BODY_BYTES ({limit} bytes)")


async def decoded(settings: Settings, view: View, request: Request, model: type,
                  needs: str) -> tuple[object, Response | None]:
    """(the body as `model`, None), or (None, the refusal): a key, its size, its content."""
    if (refusal := refused(settings, view, request, needs)) is not None:
        return None, refusal
    if (raw := await body(settings, request)) is None:
        return None, too_large(settings, view)
    try:
        return decode(model, raw), None
    except SchemaError as e:
        return None, error(view, 422, "invalid_request", str(e))


async def audit(rt, command: str, request: Request, params: dict, status: str, reason: str | None = None) -> None:
    await rt.opened()
    async with rt.pool.acquire() as conn:
        await CommandAuditRepository(conn).insert(command=command, actor=actor(rt.settings, request), source="http",
                                                  params=params, status=status, reason=reason)
