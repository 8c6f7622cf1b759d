"""Batches: many symbols in one request, over HTTP and on forecast.requests; a symbol that
cannot be served is an error entry of its own, the rest are served."""
import uuid

import httpx
import orjson
import pytest

from tests.workers import results_for

pytestmark = pytest.mark.integration


async def test_an_http_batch_serves_every_symbol_and_an_unknown_one_as_its_own_error(worker):
    body = {"batch_id": f"b-{uuid.uuid4().hex[:8]}", "symbols": ["SPY", "NOPE", "AAPL"], "forecast_horizons": [1, 5]}
    async with httpx.AsyncClient() as client:
        r = await client.post(worker.url + "/forecast/batch", content=orjson.dumps(body))
        single = (await client.post(worker.url + "/forecast/generate", content=orjson.dumps(
            {"symbol": "AAPL", "forecast_horizons": [1, 5]}))).json()
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["batch_id"] == body["batch_id"]
    spy, nope, aapl = answer["results"]
    assert [x["symbol"] for x in answer["results"]] == ["SPY", "NOPE", "AAPL"]
    assert {x["batch_id"] for x in answer["results"]} == {body["batch_id"]}
    assert [x["request_id"] for x in answer["results"]] == [f"{body['batch_id']}:{s}" for s in ("SPY", "NOPE", "AAPL")]
    assert spy["status"] == aapl["status"] == "ok" and [f["horizon"] for f in spy["forecasts"]] == [1, 5]
    assert nope["status"] == "error" and nope["error"]["code"] == "unknown_symbol"
    assert aapl["forecasts"] == single["forecasts"]  # a member is forecast as a single request is


async def test_a_kafka_batch_gives_one_result_per_symbol_with_the_batch_id(worker, kafka):
    batch_id = f"kb-{uuid.uuid4().hex[:8]}"
    value = orjson.dumps({"batch_id": batch_id, "symbols": ["SPY", "TLT", "AAPL"], "forecast_horizons": [21]})
    await kafka.send(worker.topic("forecast.requests"), value, key=None)
    ids = [f"{batch_id}:{s}" for s in ("SPY", "TLT", "AAPL")]
    results = [v for v in await kafka.collect(worker.topic("forecast.results"), results_for(*ids))
               if v["request_id"] in ids]
    assert sorted(r["symbol"] for r in results) == ["AAPL", "SPY", "TLT"]
    assert all(r["batch_id"] == batch_id and r["status"] == "ok" for r in results)


async def test_a_batch_with_duplicate_symbols_goes_to_the_dlq_with_the_reason(worker, kafka):
    value = orjson.dumps({"batch_id": f"dup-{uuid.uuid4().hex[:8]}", "symbols": ["SPY", "spy"]})
    await kafka.send(worker.topic("forecast.requests"), value, key=None)
    letters = await kafka.collect(worker.topic("forecast.requests.dlq"),
                                  lambda vs: any("duplicates" in v["reason"] and v["value"] == value.decode()
                                                 for v in vs))
    assert any("symbols has duplicates" in v["reason"] for v in letters)
