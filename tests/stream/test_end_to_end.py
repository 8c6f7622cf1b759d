"""Bars and requests in through the real broker, results out, rows in PostgreSQL."""
import asyncio
import shutil
import uuid

import asyncpg
import httpx
import orjson
import pytest
import redis.asyncio as redis

from schemas import QUANTILE_KEYS
from tests.services import redis_settings
from tests.workers import results_for

pytestmark = pytest.mark.integration

REQUEST = {"user_id": "user123", "symbol": "SPY", "forecast_horizons": [1, 5, 10, 21],
           "include_options_greeks": True, "risk_adjustment": True,
           "confidence_intervals": [0.68, 0.95]}


def new_request(**changes) -> dict:
    return {**REQUEST, "request_id": f"req-{uuid.uuid4().hex[:12]}", **changes}


async def ask(worker, kafka, *requests: dict) -> dict[str, dict]:
    for r in requests:
        await kafka.send(worker.topic("forecast.requests"), orjson.dumps(r), r["symbol"].encode())
    values = await kafka.collect(worker.topic("forecast.results"),
                                 results_for(*(r["request_id"] for r in requests)))
    return {v["request_id"]: v for v in values}


def assert_contract(result: dict, horizons: list[int]) -> None:
    assert result["status"] == "ok", result
    assert result["as_of"] == "2023-12-29" and result["symbol"] == "SPY"
    assert result["model_version"] and result["disclaimer"] and result["latency_ms"] >= 0
    assert [f["horizon"] for f in result["forecasts"]] == horizons
    for f in result["forecasts"]:
        q = [f["quantiles"][k] for k in QUANTILE_KEYS]
        assert q == sorted(q) and f["point"] > 0 and f["volatility"] > 0
        (lo68, hi68), (lo95, hi95) = f["intervals"]["0.68"], f["intervals"]["0.95"]
        assert lo95 < lo68 < f["quantiles"]["0.5"] < hi68 < hi95
        assert 0 <= f["prob_up"] <= 1


async def metric_rows(database_url: str, request_id: str, expect: int) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(40):  # the sink flushes every second
            rows = await conn.fetch("SELECT * FROM forecast_metrics WHERE request_id = $1 "
                                    "ORDER BY horizon", request_id)
            if len(rows) >= expect:
                return rows
            await asyncio.sleep(0.25)
        return rows
    finally:
        await conn.close()


async def test_request_over_kafka_and_http_gives_the_contract_and_a_metrics_row(
        worker, kafka, database_url):
    req = new_request()
    result = (await ask(worker, kafka, req))[req["request_id"]]
    assert_contract(result, [1, 5, 10, 21])
    for f in result["forecasts"]:  # include_options_greeks: ATM options at each horizon
        call, put = f["options"]["call"], f["options"]["put"]
        assert call["price"] > 0 and put["price"] > 0 and call["delta"] - put["delta"] == pytest.approx(1)

    http_req = {**req, "request_id": f"http-{uuid.uuid4().hex[:8]}"}
    async with httpx.AsyncClient() as client:
        resp = await client.post(worker.url + "/forecast/generate", content=orjson.dumps(http_req))
    assert resp.status_code == 200, resp.text
    over_http = resp.json()
    assert_contract(over_http, [1, 5, 10, 21])
    assert over_http["forecasts"] == result["forecasts"]

    rows = await metric_rows(database_url, req["request_id"], 4)
    assert [r["horizon"] for r in rows] == [1, 5, 10, 21]
    assert rows[0]["point"] == pytest.approx(result["forecasts"][0]["point"])


async def test_invalid_messages_go_to_the_dead_letter_topic_and_the_agent_goes_on(worker, kafka):
    bad_ticks = [
        b'{"symbol": "SPY", "ts": "2024-01-02", "open": 1',
        orjson.dumps({"symbol": "SPY", "ts": "2024-01-02", "open": "a lot", "high": 2, "low": 1,
                      "close": 1.5, "volume": 1}),
        orjson.dumps({"symbol": "SPY", "ts": "2024-01-02", "open": 1, "high": 2, "low": 1,
                      "close": 1.5, "volume": 1, "venue": "X"}),
        orjson.dumps({"symbol": "SPY", "ts": "2024-01-02", "open": -1, "high": 2, "low": 1,
                      "close": -1.5, "volume": 1}),
    ]
    for raw in bad_ticks:
        await kafka.send(worker.topic("market.ticks"), raw, b"SPY")
    bad_request = orjson.dumps({**new_request(), "forecast_horizons": [7]})
    await kafka.send(worker.topic("forecast.requests"), bad_request, b"SPY")

    letters = await kafka.collect(worker.topic("market.ticks.dlq"), lambda v: len(v) >= 4)
    reasons = [l["reason"] for l in letters]
    assert "malformed JSON" in reasons[0]
    assert "open: Input should be a valid number" in reasons[1]
    assert "venue: Extra inputs are not permitted" in reasons[2]
    assert "greater than 0" in reasons[3]
    assert [l["value"].encode() for l in letters] == bad_ticks
    assert all(l["topic"] == worker.topic("market.ticks") and l["offset"] >= 0 for l in letters)

    def mine(letters):  # other tests' letters share the topic
        return [l for l in letters if l["value"] == bad_request.decode()]

    (letter,) = mine(await kafka.collect(worker.topic("forecast.requests.dlq"), mine))
    assert "unknown horizon(s) [7]" in letter["reason"]

    req = new_request()  # the next valid request is served, from unchanged bars
    result = (await ask(worker, kafka, req))[req["request_id"]]
    assert_contract(result, [1, 5, 10, 21])
    for f in result["forecasts"]:  # include_options_greeks: ATM options at each horizon
        call, put = f["options"]["call"], f["options"]["put"]
        assert call["price"] > 0 and put["price"] > 0 and call["delta"] - put["delta"] == pytest.approx(1)


async def test_a_request_sent_twice_leaves_one_row_per_horizon(worker, kafka, database_url):
    req = new_request(forecast_horizons=[5, 21])
    for _ in range(2):
        await ask(worker, kafka, req)
    await asyncio.sleep(2.5)  # two sink flushes: the second write would land by now
    rows = await metric_rows(database_url, req["request_id"], 2)
    assert [r["horizon"] for r in rows] == [5, 21]


async def test_http_errors_and_operational_endpoints(worker):
    async with httpx.AsyncClient(base_url=worker.url) as client:
        bad = await client.post("/forecast/generate", content=b'{"symbol": "SPY", "forecast_horizons": "5"}')
        assert bad.status_code == 422 and "forecast_horizons" in bad.json()["error"]["message"]
        unknown = await client.post("/forecast/generate", content=b'{"symbol": "NOPE"}')
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_symbol"
        status = (await client.get("/model/status")).json()
        assert status["model_version"] and status["min_history"] > 0
        calibration = status["model"]["interval_calibration"]  # the default TFT serves here
        assert status["model"]["kind"] == "tft"
        assert status["model"]["runtime"] == "onnx"  # TFT_RUNTIME=auto: the committed graph beside the artifact
        assert calibration["coverage_after"][0] == pytest.approx([0.8, 0.5], abs=0.002)
        await asyncio.sleep(1.5)  # one lag refresh
        metrics = (await client.get("/metrics")).text
    assert 'tft_consumer_lag_messages{partition="0",topic="%s"}' % worker.topic("market.ticks") in metrics
    assert "tft_forecast_request_latency_seconds_bucket" in metrics
    assert "tft_inference_batch_size_bucket" in metrics


async def test_bars_and_requests_from_any_client_reach_their_window(worker, data_dir):
    from tests.stream.any_client import check_any_client_is_served
    await check_any_client_is_served([worker], data_dir)


async def test_window_table_is_recovered_from_the_changelog(worker, kafka):
    req = new_request()
    before = (await ask(worker, kafka, req))[req["request_id"]]
    worker.stop()
    shutil.rmtree(worker.state_dir)
    host, port, db = redis_settings()  # forget cached forecasts: the model must run again
    client = redis.Redis(host=host, port=port, db=db)
    await client.flushdb()
    await client.aclose()
    worker.start()
    req2 = new_request()
    after = (await ask(worker, kafka, req2))[req2["request_id"]]
    assert after["as_of"] == before["as_of"]
    # Equal up to float32 noise: a forward pass of several symbols sums in another order
    # than one of a single symbol (measured: 1e-8 in log return), and `before` may have
    # been computed in a batch.
    for a, b in zip(after["forecasts"], before["forecasts"], strict=True):
        assert a["horizon"] == b["horizon"]
        assert [a["point"], *a["quantiles"].values()] == pytest.approx([b["point"], *b["quantiles"].values()],
                                                                       rel=1e-6)
    # The bars were not read again from market.ticks: the window came from the changelog.
    metrics = httpx.get(worker.url + "/metrics").text
    assert "tft_bars_ingested_total 0.0" in metrics


async def test_feature_importance_is_stored_and_served(worker, database_url, data_dir):
    from features.data import load
    from inference.models import resolve_artifact
    from lifecycle.importance import store
    from tft.artifact import load as load_artifact
    from tft.interpret import interpret_range

    art = load_artifact(resolve_artifact("default"))
    interp = interpret_range(load(data_dir), art, "2023-12-20", "2023-12-29", progress=False, symbols=["SPY"])
    assert set(interp.importance["symbol"]) - {"*"} == {"SPY"}
    assert await store(database_url, art.version, interp) > 0
    async with httpx.AsyncClient(base_url=worker.url) as client:
        resp = await client.get("/features/spy/importance", params={"horizon": 5})
        missing = await client.get("/features/AAPL/importance", params={"horizon": 5})
        bad = await client.get("/features/SPY/importance", params={"horizon": 7})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    weights = [f["importance"] for f in body["features"]]
    assert body["model_version"] == art.version and weights == sorted(weights, reverse=True)
    assert abs(sum(weights) - 1) < 1e-3  # selection weights are a distribution over inputs
    assert missing.status_code == 404 and bad.status_code == 422


async def test_every_prediction_has_an_audit_row_whatever_its_path_and_status(worker, kafka, database_url):
    kafka_ok, kafka_refused = new_request(), new_request(symbol="NOPE")
    await ask(worker, kafka, kafka_ok, kafka_refused)
    http_ok, http_refused = new_request(), new_request(symbol="NOPE")
    async with httpx.AsyncClient(base_url=worker.url) as client:
        for body in (http_ok, http_refused):
            await client.post("/forecast/generate", content=orjson.dumps(body))
    expected = {kafka_ok["request_id"]: ("kafka", "ok", None), kafka_refused["request_id"]: ("kafka", "error", "unknown_symbol"),
                http_ok["request_id"]: ("http", "ok", None), http_refused["request_id"]: ("http", "error", "unknown_symbol")}
    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(40):
            rows = await conn.fetch("SELECT request_id, source, status, error_code, user_id, model_version, created_at "
                                    "FROM prediction_audit WHERE request_id = ANY($1)", list(expected))
            if len(rows) == len(expected):
                break
            await asyncio.sleep(0.25)
    finally:
        await conn.close()
    assert {r["request_id"]: (r["source"], r["status"], r["error_code"]) for r in rows} == expected
    assert all(r["user_id"] == "user123" and r["model_version"] and r["created_at"] for r in rows)
