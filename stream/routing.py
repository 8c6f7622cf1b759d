"""HTTP requests reach any worker; a symbol's window lives only on the worker that owns
its partition of symbol_to_bars. A request for a symbol owned elsewhere is forwarded
there, body and all, and its answer returned as it came.

Faust's own router forwards the method and headers but not a POST body, hence this.
The forwarded request carries a header naming the sender, and is always answered where
it lands, so a request is forwarded at most once, even while a rebalance moves the
partition and two workers disagree about its owner.
"""
import aiohttp
from yarl import URL

from schemas.http import API_KEY_HEADER
from stream.app import app
from stream.tables import symbol_to_bars

FORWARDED_BY = "X-TFT-Forwarded-By"
FORWARD_TIMEOUT_S = 30.0  # an owner that has not answered by then is taken as away
SERVED_BY = "X-TFT-Served-By"  # on every forecast answer: which worker computed it


def served_by() -> dict[str, str]:
    return {SERVED_BY: str(app.conf.canonical_url)}


def owner_elsewhere(symbol: str) -> URL | None:
    """The web address of the worker holding `symbol`'s window, or None if that is this
    worker or nobody is known to hold it yet (before the first assignment)."""
    try:
        url = app.router.key_store(symbol_to_bars.name, symbol.encode())
    except KeyError:
        return None
    here = app.conf.canonical_url
    return None if (url.host, url.port) == (here.host, here.port) else url


async def forward(owner: URL, path: str, body: bytes, api_key: str | None) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers) of the owner's answer to a POST of `body` to `path`."""
    headers = {"Content-Type": "application/json", FORWARDED_BY: str(app.conf.canonical_url)}
    if api_key is not None:  # the owner checks the caller's key itself
        headers[API_KEY_HEADER] = api_key
    async with app.http_client.post(owner.with_path(path), data=body, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=FORWARD_TIMEOUT_S)) as resp:
        return resp.status, await resp.read(), {SERVED_BY: resp.headers.get(SERVED_BY, str(owner))}
