"""An automatic rollback, end to end: a promoted version whose intervals are far too wide
serves real forecasts, the later real bars come, its predecessor is scored in shadow on
the same forecasts, and the registry rolls back by itself; the worker follows."""
import uuid

import asyncpg
import httpx
import orjson
import pytest

from features.data import load, select
from inference.models import DEFAULT_ARTIFACT
from lifecycle.store import promote, register
from stream.publish import bars_from_panel, publish_bars
from tests.helpers import until
from tests.models import variant
from tests.services import fresh_database
from tests.workers import Kafka, new_worker, wait_for_bars

pytestmark = pytest.mark.integration
SYMBOLS, AS_OF, REQUESTS = ["KO", "AAPL", "SPY"], "2023-06-30", 2
FORECASTS = len(SYMBOLS) * REQUESTS * 4  # four horizons each


@pytest.fixture(scope="module")
async def rollout(tmp_path_factory, data_dir):
    tmp = tmp_path_factory.mktemp("rollback")
    async with fresh_database() as url:
        worker = new_worker(tmp, uuid.uuid4().hex[:8], url, TFT_MODEL_STORE=str(tmp / "store"),
                            TFT_MODEL_CHECK_S="0.5", VALIDATE_EVERY_S="0.5",
                            ROLLBACK_MIN_N=str(FORECASTS), ROLLBACK_MARGIN="0.05")
        worker.start()
        default = await register(url, DEFAULT_ARTIFACT, tmp / "store")
        wide = await register(url, variant(tmp, "wide", 4.0)[0], tmp / "store")
        yield {"worker": worker, "url": url, "default": default.version, "wide": wide.version}
        worker.stop()


async def served(worker, symbol: str) -> dict:
    async with httpx.AsyncClient(base_url=worker.url) as http:
        r = await http.post("/forecast/generate", content=orjson.dumps({"symbol": symbol}))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_worse_promotion_is_rolled_back_once_its_shadow_shows_it(rollout, data_dir):
    worker, url = rollout["worker"], rollout["url"]
    await promote(url, rollout["default"], None, "test", "the first version")
    await promote(url, rollout["wide"], None, "test", "a version that turns out worse")
    await until(lambda: status_of(worker, "model_version", rollout["wide"]), 30, "the wide version is not served")
    shadow = await until(lambda: status_of(worker, "shadow"), 10, "no shadow is scored")
    assert shadow["version"] == rollout["default"] and shadow["n"] == 0

    bars = select(load(data_dir).all_bars(), [*SYMBOLS, "VIX", "TLT"], "2021-06-01", "2023-08-31")
    seed = bars[bars["date"] <= AS_OF].groupby("symbol", group_keys=False).tail(400)
    await publish_bars(worker.kafka_client(), worker.topic("market.ticks"), bars_from_panel(seed), 0, progress=False)
    await wait_for_bars([worker], len(seed))
    for symbol in SYMBOLS:
        for _ in range(REQUESTS):
            result = await served(worker, symbol)
            assert (result["model_version"], result["as_of"]) == (rollout["wide"], AS_OF)

    later = bars[bars["date"] > AS_OF]
    await publish_bars(worker.kafka_client(), worker.topic("market.ticks"), bars_from_panel(later), 0, progress=False)
    await until(lambda: status_of(worker, "model_version", rollout["default"]), 90,
                "the worker did not roll back to its predecessor")
    assert (await served(worker, "KO"))["model_version"] == rollout["default"]

    conn = await asyncpg.connect(url)
    try:
        versus = await conn.fetchrow(
            "SELECT count(*) AS n, avg(v.pinball) AS wide, avg(s.pinball) AS default FROM forecast_validation v "
            "JOIN forecast_shadow s USING (request_id, horizon) WHERE v.model_version = $1 AND s.model_version = $2",
            rollout["wide"], rollout["default"])
        retired = await conn.fetchrow("SELECT status, reason FROM model_registry WHERE version = $1", rollout["wide"])
        audit = await conn.fetch("SELECT actor, params FROM command_audit WHERE command = 'rollback' AND source = 'auto'")
    finally:
        await conn.close()
    assert versus["n"] == FORECASTS and versus["wide"] > versus["default"] * 1.05
    assert retired["status"] == "retired" and "live pinball" in retired["reason"]
    assert len(audit) == 1 and orjson.loads(audit[0]["params"]) == {"retired": rollout["wide"],
                                                                    "restored": rollout["default"]}

    kafka = Kafka(client=worker.kafka_client())
    await kafka.start()
    try:
        events = await kafka.collect(worker.topic("model.events"),
                                     lambda vs: any(v["kind"] == "rolled_back" for v in vs))
    finally:
        await kafka.stop()
    (event,) = [e for e in events if e["kind"] == "rolled_back"]
    assert event["version"] == rollout["default"] and event["detail"]["n"] == FORECASTS


async def status_of(worker, field: str, equal=None):
    async with httpx.AsyncClient(base_url=worker.url) as http:
        value = (await http.get("/model/status")).json()[field]
    return value if equal is None else value == equal
