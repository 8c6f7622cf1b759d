"""A book's forecast on the worker it reached: its members served here where their windows
are, asked of their owners over HTTP where not (as a batch, as /forecast/batch forwards
one), and joined by inference.portfolio off the event loop."""
import asyncio
import time
from collections import defaultdict

import aiohttp

from inference.portfolio import answer, members
from inference.serving import Ask
from schemas import BatchRequest, BatchResult, ErrorInfo, ForecastRequest, ForecastResult, SchemaError, decode, encode
from schemas.portfolio import PortfolioRequest, PortfolioResult
from stream.answers import serve
from stream.routing import forward, owner_elsewhere
from stream.tables import contexts, windows


async def serve_book(rt, request: PortfolioRequest, request_id: str, received: float, source: str,
                     event=None, api_key: str | None = None, forwarded: bool = False) -> PortfolioResult:
    """`event`: the Kafka message it came in, whose members' ledger records go with its
    offset; `forwarded`: the request already took its one hop, so every member is served here."""
    asked = members(request, request_id)
    here, elsewhere = [], defaultdict(list)
    for m in asked:
        owner = None if forwarded else owner_elsewhere(m.symbol)
        (here if owner is None else elsewhere[owner]).append(m)
    by_symbol: dict[str, ForecastResult] = {}
    if here:
        asks = [Ask(m, m.request_id, windows.get(m.symbol), contexts.of(m.symbol), received) for m in here]
        outcomes, sent = await serve(rt, asks, source, [event] * len(asks) if event else None, publish=False)
        if event is None:  # over HTTP the answer waits until its members' rows cannot be lost
            await asyncio.gather(*sent)
        by_symbol |= {o.result.symbol: o.result for o in outcomes}
    for answered in await asyncio.gather(*(_asked_of(owner, request, request_id, part, api_key)
                                             for owner, part in elsewhere.items())):
        by_symbol |= answered
    service = (await rt.opened()).service
    return await asyncio.to_thread(answer, request, request_id, [by_symbol[m.symbol] for m in asked],
                                   service.dependence, service.model_version, (time.monotonic() - received) * 1000)


async def _asked_of(owner, request: PortfolioRequest, request_id: str, part: list[ForecastRequest],
                    api_key: str | None) -> dict[str, ForecastResult]:
    batch = BatchRequest(batch_id=request_id, symbols=[m.symbol for m in part], user_id=request.user_id,
                         forecast_horizons=request.forecast_horizons, risk_adjustment=request.risk_adjustment)
    try:
        status, body, _ = await forward(owner, "/forecast/batch", encode(batch), api_key)
        if status == 200:
            return {r.symbol: r for r in decode(BatchResult, body).results}
        why = f"its owner {owner} answered {status}"
    except (aiohttp.ClientError, asyncio.TimeoutError, SchemaError) as e:
        why = f"its owner {owner} could not be asked: {type(e).__name__}: {e}"
    return {m.symbol: ForecastResult(request_id=m.request_id, batch_id=request_id, symbol=m.symbol, model_version="",
                                     status="error", error=ErrorInfo(code="internal_error", message=why))
            for m in part}
