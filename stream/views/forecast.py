"""POST /forecast/generate, /forecast/batch and /forecast/portfolio: forecasts over HTTP,
served by the worker that holds each symbol's window (others forward to it)."""
import asyncio
import math
import time
import uuid
from collections import defaultdict

from faust.web import Request, Response, View

from inference.serving import Ask
from schemas import BatchRequest, BatchResult, ForecastRequest, ForecastResult, decode, encode
from schemas.http import API_KEY_HEADER
from schemas.portfolio import PortfolioRequest
from stream import metrics
from stream.answers import serve
from stream.books import serve_book
from stream.routing import FORWARDED_BY, forward, owner_elsewhere, served_by
from stream.tables import contexts, windows
from stream.views.replies import JSON, decoded, error

ERROR_STATUS = {"unknown_symbol": 404, "rate_limited": 429, "internal_error": 503}


def error_headers(error) -> tuple[int, dict[str, str]]:
    """The status of a result's error (200 without one), and when to try again."""
    headers = served_by()
    if error is None:
        return 200, headers
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after_s)))
    return ERROR_STATUS.get(error.code, 422), headers


def starting(rt, view: View) -> Response:
    return error(view, 503, "starting", "the worker is starting: waiting for " + ", ".join(rt.readiness.waiting),
                 {"Retry-After": "1"})


async def serve_here(rt, requests: list[ForecastRequest], received: float) -> list[ForecastResult]:
    """Serve requests for symbols this worker holds; each answer waits for its ledger
    record to be on Kafka, so its rows cannot be lost."""
    asks = [Ask(r, r.request_id or str(uuid.uuid4()), windows.get(r.symbol), contexts.of(r.symbol), received)
            for r in requests]
    outcomes, sent = await serve(rt, asks, "http")
    await asyncio.gather(*sent)
    metrics.request_latency.labels(source="http").observe(time.monotonic() - received)
    return [o.result for o in outcomes]


def install(rt) -> None:
    settings = rt.settings

    @rt.app.page("/forecast/generate")
    class GenerateForecast(View):
        async def post(self, request: Request) -> Response:
            received = time.monotonic()
            body, refused = await decoded(settings, self, request, ForecastRequest, "reader")
            if refused is not None:
                return refused
            owner = None if FORWARDED_BY in request.headers else owner_elsewhere(body.symbol)
            if owner is not None:
                status, answer, headers = await forward(owner, request.path, encode(body),
                                                        request.headers.get(API_KEY_HEADER))
                return self.bytes(answer, content_type=JSON, status=status, headers=headers)
            if not rt.readiness.ready:
                return starting(rt, self)
            (result,) = await serve_here(rt, [body], received)
            status, headers = error_headers(result.error)
            return self.bytes(encode(result), content_type=JSON, status=status, headers=headers)

    @rt.app.page("/forecast/batch")
    class GenerateBatch(View):
        """Every symbol's forecast; a symbol that cannot be served is an error entry of its
        own. Symbols held by other workers go to each owner as one smaller batch."""

        async def post(self, request: Request) -> Response:
            received = time.monotonic()
            body, refused = await decoded(settings, self, request, BatchRequest, "reader")
            if refused is not None:
                return refused
            if not rt.readiness.ready:
                return starting(rt, self)
            batch_id = body.batch_id or str(uuid.uuid4())
            members = body.members(batch_id)
            here, elsewhere = [], defaultdict(list)
            for m in members:
                owner = None if FORWARDED_BY in request.headers else owner_elsewhere(m.symbol)
                (here if owner is None else elsewhere[owner]).append(m)
            results = {r.symbol: r for r in await serve_here(rt, here, received)}
            for owner, part in elsewhere.items():
                sub = body.model_copy(update={"batch_id": batch_id, "symbols": [m.symbol for m in part]})
                status, answer, _ = await forward(owner, request.path, encode(sub), request.headers.get(API_KEY_HEADER))
                if status != 200:
                    return self.bytes(answer, content_type=JSON, status=status)
                results |= {r.symbol: r for r in decode(BatchResult, answer).results}
            return self.bytes(encode(BatchResult(batch_id=batch_id, results=[results[m.symbol] for m in members])),
                              content_type=JSON, headers=served_by())

    @rt.app.page("/forecast/portfolio")
    class GeneratePortfolio(View):
        """A book's return quantiles, VaR, expected shortfall and Euler contributions, from
        its members' forecasts (each served as a batch's member is) joined by the served
        model's copula. A member that cannot be forecast fails the book, named."""

        async def post(self, request: Request) -> Response:
            received = time.monotonic()
            body, refused = await decoded(settings, self, request, PortfolioRequest, "reader")
            if refused is not None:
                return refused
            if not rt.readiness.ready:
                return starting(rt, self)
            result = await serve_book(rt, body, body.request_id or str(uuid.uuid4()), received, "http",
                                      api_key=request.headers.get(API_KEY_HEADER),
                                      forwarded=FORWARDED_BY in request.headers)
            metrics.request_latency.labels(source="http").observe(time.monotonic() - received)
            status, headers = error_headers(result.error)
            return self.bytes(encode(result), content_type=JSON, status=status, headers=headers)
