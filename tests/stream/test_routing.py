"""Two workers in one consumer group: an HTTP request reaches the symbol's owner."""
import shutil
import uuid

import httpx
import orjson
import pytest

from tests.workers import new_worker, seed_bars, settled, start_all, stop_all

pytestmark = pytest.mark.integration

# One symbol on each of the 4 partitions (murmur2 of the key), so each worker owns some.
SYMBOLS = ["C", "AAPL", "TLT", "SPY"]


@pytest.fixture(scope="module")
async def pair(tmp_path_factory, database_url, data_dir):
    run = uuid.uuid4().hex[:8]
    workers = [new_worker(tmp_path_factory.mktemp(f"worker{i}"), run, database_url) for i in range(2)]
    start_all(workers)
    await seed_bars(data_dir, workers, [*SYMBOLS, "VIX"])
    await settled(workers, SYMBOLS)
    yield workers
    stop_all(workers)
    for w in workers:
        shutil.rmtree(w.state_dir, ignore_errors=True)


async def test_any_worker_answers_for_any_symbol_with_the_owners_forecast(pair):
    served = {}
    async with httpx.AsyncClient(timeout=30) as client:
        for symbol in SYMBOLS:
            answers = []
            for w in pair:
                body = {"symbol": symbol, "forecast_horizons": [1, 5], "request_id": f"route-{uuid.uuid4().hex[:8]}"}
                resp = await client.post(w.url + "/forecast/generate", content=orjson.dumps(body))
                assert resp.status_code == 200, (w.url, symbol, resp.text)
                answers.append(resp)
            owners = {r.headers["X-TFT-Served-By"] for r in answers}
            assert len(owners) == 1, f"{symbol} computed by {owners}"  # the owner, whoever was asked
            assert answers[0].json()["forecasts"] == answers[1].json()["forecasts"]
            served[symbol] = owners.pop()
    assert len(set(served.values())) == 2, served  # both workers own some of the symbols


async def test_with_two_workers_any_client_reaches_the_window(pair, data_dir):
    from tests.stream.any_client import check_any_client_is_served
    await check_any_client_is_served(pair, data_dir)
