"""Live validation end to end: forecasts served on real bars, the later real bars
replayed, and each forecast scored on the bar its horizon came to."""
import asyncio
import time
import uuid
from datetime import date

import asyncpg
import httpx
import numpy as np
import orjson
import pytest

from features.data import load, select
from inference.conformal import GAMMA, LEVELS
from inference.validation import Outcome, interval_misses
from persistence.repositories.interval_scales import IntervalScalesRepository
from tests.workers import publish_and_wait

pytestmark = pytest.mark.integration
SYMBOL, AS_OF = "KO", "2023-06-30"  # a symbol no other test gives the shared worker


async def validations(database_url: str, ids: list[str], n: int, timeout: float = 40) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            rows = await conn.fetch("SELECT * FROM forecast_validation WHERE request_id = ANY($1) "
                                    "ORDER BY request_id, horizon", ids)
            if len(rows) >= n or time.monotonic() > deadline:
                return rows
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def test_served_forecasts_are_scored_when_their_horizons_come(worker, data_dir, database_url):
    bars = select(load(data_dir).all_bars(), [SYMBOL], "2021-06-01", "2023-08-31")
    await publish_and_wait(worker, bars[bars["date"] <= AS_OF].tail(400))
    ids = [f"live-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    async with httpx.AsyncClient(base_url=worker.url) as http:
        for rid in ids:
            r = await http.post("/forecast/generate", content=orjson.dumps({"request_id": rid, "symbol": SYMBOL}))
            assert r.status_code == 200 and r.json()["as_of"] == AS_OF, r.text
    served = r.json()
    assert await validations(database_url, ids, 1, timeout=2) == []  # nothing has come true yet
    await publish_and_wait(worker, bars[bars["date"] > AS_OF])
    rows = await validations(database_url, ids, 12)
    assert len(rows) == 12  # three forecasts, four horizons each

    after = bars[bars["date"] > AS_OF].reset_index(drop=True)
    for r in rows:
        session = after.iloc[r["horizon"] - 1]  # the horizon-th session after the forecast's day
        assert r["target_date"] == session["date"].date()
        assert r["actual"] == pytest.approx(session["close"])
        assert r["rw_pinball"] > 0 and r["pinball"] > 0

    async with httpx.AsyncClient(base_url=worker.url) as http:
        status = (await http.get("/model/status")).json()["live_accuracy"]
        by_symbol = (await http.get("/model/status", params={"accuracy_by": "symbol"})).json()["live_accuracy"]
        text = (await http.get("/metrics")).text
    assert {row["horizon"] for row in status["rows"]} == {1, 5, 10, 21}
    assert all(row["n"] >= 3 for row in status["rows"])
    mine = [row for row in by_symbol["rows"] if row["grp"] == SYMBOL]
    assert [row["n"] for row in mine] == [3, 3, 3, 3]
    assert 'tft_live_pinball_loss{horizon="21",model="random_walk"}' in text

    # The outcomes moved the served version's interval scales one step per horizon (the
    # three forecasts share a key: counted once), and the next forecast is served with them.
    conn = await asyncpg.connect(database_url)
    try:
        learnt = {r["horizon"]: r for r in await conn.fetch(
            "SELECT horizon, log_scales, steps FROM interval_scales WHERE model_version = $1",
            served["model_version"])}
        last_close = await conn.fetchval("SELECT last_close FROM forecast_metrics WHERE request_id = $1", ids[-1])
    finally:
        await conn.close()
    assert set(learnt) == {1, 5, 10, 21}
    actual = {r["horizon"]: r["actual"] for r in rows}
    for f in served["forecasts"]:
        row = {"last_close": last_close, "intervals": f["intervals"],
               **{f"q{round(float(k) * 100)}": v for k, v in f["quantiles"].items()}}
        missed = interval_misses(row, Outcome(None, actual[f["horizon"]], 0.0))
        expected = GAMMA * (missed - (1 - np.array(LEVELS)))
        if learnt[f["horizon"]]["steps"] == 1:  # other symbols of the shared worker may have stepped it too
            assert np.allclose(learnt[f["horizon"]]["log_scales"], expected)
    async with httpx.AsyncClient(base_url=worker.url) as http:
        later = (await http.post("/forecast/generate", content=orjson.dumps({"symbol": SYMBOL}))).json()
    for f in later["forecasts"]:
        scales = np.exp(learnt[f["horizon"]]["log_scales"])
        assert list(f["interval_scales"].values()) == pytest.approx(list(scales))


async def test_scales_another_worker_steps_are_served_without_outcomes_of_this_ones(worker, data_dir, database_url):
    symbol = "PEP"  # no other test gives it the shared worker, nor any outcome of it
    await publish_and_wait(worker, select(load(data_dir).all_bars(), [symbol], "2021-06-01", "2023-06-30"))
    async with httpx.AsyncClient(base_url=worker.url) as http:
        version = (await http.post("/forecast/generate", content=orjson.dumps({"symbol": symbol}))).json()["model_version"]
    conn = await asyncpg.connect(database_url)
    try:  # a second worker's pass, on outcomes of symbols this one does not hold
        repo = IntervalScalesRepository(conn)
        await repo.step(version, 21, 0.5, [1.0] * len(LEVELS), LEVELS, date(2099, 1, 1))
        wanted = list(np.exp((await repo.of_version(version))[21]))
    finally:
        await conn.close()
    deadline, served = time.monotonic() + 20, None
    async with httpx.AsyncClient(base_url=worker.url) as http:
        while time.monotonic() < deadline:
            r = (await http.post("/forecast/generate", content=orjson.dumps({"symbol": symbol}))).json()
            served = next(f.get("interval_scales") for f in r["forecasts"] if f["horizon"] == 21)  # absent before a step
            if served is not None and list(served.values()) == pytest.approx(wanted):
                break
            await asyncio.sleep(0.5)
    assert served is not None and list(served.values()) == pytest.approx(wanted)
