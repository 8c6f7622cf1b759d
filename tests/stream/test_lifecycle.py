"""The model lifecycle against a worker of its own (its own database and model store):
versions registered, a narrower-interval variant refused by the validation gate, an
equal one promoted and served by every worker without a request lost or answered
twice, a rollback, each step by an operator key and audited."""
import asyncio
import time
import uuid

import asyncpg
import httpx
import orjson
import pytest

from inference.models import DEFAULT_ARTIFACT
from lifecycle.store import register
from tests.models import variant
from tests.services import fresh_database
from tests.workers import Kafka, new_worker, seed_bars, start_all, stop_all

pytestmark = pytest.mark.integration
OPERATOR, READER = "op-" + uuid.uuid4().hex, "rd-" + uuid.uuid4().hex
GATE_SYMBOLS = "SPY,AAPL,TLT"


@pytest.fixture(scope="module")
async def lifecycle(tmp_path_factory, data_dir):
    tmp = tmp_path_factory.mktemp("lifecycle")
    async with fresh_database() as url:
        run = uuid.uuid4().hex[:8]
        env = dict(TFT_MODEL_STORE=str(tmp / "store"), TFT_API_KEYS=f"operator:{OPERATOR},reader:{READER}",
                   GATE_SYMBOLS=GATE_SYMBOLS, TFT_MODEL_CHECK_S="0.5", RETRAIN_INCREMENTAL_EPOCHS="1",
                   RETRAIN_FULL_EPOCHS="1", REGIME_MAX_SERIES="2", RETRAIN_DEPENDENCE_SESSIONS="40",
                   # No ONNX export in the retrain job: it would add a minute of CI on 2 cores
                   # (tests/tft/test_export.py and tests/lifecycle/test_store.py cover the graph).
                   TFT_RUNTIME="torch")
        for i in range(2):
            (tmp / f"w{i}").mkdir()
        workers = [new_worker(tmp / f"w{i}", run, url, **env) for i in range(2)]
        start_all(workers)
        await seed_bars(data_dir, workers, ["SPY", "AAPL", "TLT", "VIX"])
        same, same_version = variant(tmp, "same", 1.0)
        narrow, narrow_version = variant(tmp, "narrow", 0.4)
        default = await register(url, DEFAULT_ARTIFACT, tmp / "store")
        for path in (same, narrow):
            await register(url, path, tmp / "store")
        yield {"workers": workers, "url": url, "default": default.version, "same": same_version,
               "narrow": narrow_version}
        stop_all(workers)


async def post(worker, path: str, body: dict, key: str = OPERATOR) -> httpx.Response:
    async with httpx.AsyncClient(timeout=300) as client:
        return await client.post(worker.url + path, content=orjson.dumps(body), headers={"X-API-Key": key})


async def served_version(worker, symbol: str) -> str:
    async with httpx.AsyncClient() as client:
        r = await client.post(worker.url + "/forecast/generate", content=orjson.dumps({"symbol": symbol}),
                              headers={"X-API-Key": READER})
    return r.json()["model_version"]


async def until_served(workers, version: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # each worker serves the symbols of its partitions: ask for all of them everywhere
        seen = {await served_version(w, s) for w in workers for s in ("SPY", "AAPL", "TLT")}
        if seen == {version}:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"not every worker serves {version} within {timeout} s")


async def test_promotion_through_the_gate_hot_swap_and_rollback(lifecycle):
    w1, w2 = lifecycle["workers"]
    first = await post(w1, "/model/promote", {"version": lifecycle["default"], "force": True, "reason": "first"})
    assert first.status_code == 200 and first.json()["promoted"], first.text

    assert (await post(w1, "/model/promote", {"version": lifecycle["same"]}, key=READER)).status_code == 403

    refused = await post(w1, "/model/promote", {"version": lifecycle["narrow"], "reason": "try narrow"})
    assert refused.status_code == 409, refused.text
    gate = refused.json()["gate"]
    assert not gate["passed"] and "coverage" in gate["reason"]
    assert set(gate["horizons"]["5"]) == {"n", "candidate", "active", "random_walk"}

    kafka = Kafka()
    await kafka.start()
    ids: list[str] = []
    flowing = asyncio.Event()

    async def keep_asking():  # requests flow through the whole swap, 20 a second
        symbols = ["SPY", "AAPL", "TLT"]
        while not flowing.is_set():
            rid, symbol = f"swap-{uuid.uuid4().hex[:8]}", symbols[len(ids) % 3]
            ids.append(rid)
            await kafka.send(w1.topic("forecast.requests"), orjson.dumps({"request_id": rid, "symbol": symbol}),
                             symbol.encode())
            await asyncio.sleep(0.05)

    asking = asyncio.create_task(keep_asking())
    promoted = await post(w2, "/model/promote", {"version": lifecycle["same"], "reason": "equal, renamed"})
    assert promoted.status_code == 200 and promoted.json()["replaced"] == lifecycle["default"], promoted.text
    await until_served([w1, w2], lifecycle["same"])
    await asyncio.sleep(1)
    flowing.set()
    await asking
    results = [v for v in await kafka.collect(w1.topic("forecast.results"),
                                              lambda vs: set(ids) <= {v["request_id"] for v in vs}, timeout=60)
               if v["request_id"] in set(ids)]
    await kafka.stop()
    assert sorted(r["request_id"] for r in results) == sorted(ids)  # each once: none lost, none twice
    versions = [r["model_version"] for r in sorted(results, key=lambda r: ids.index(r["request_id"]))]
    assert set(versions) == {lifecycle["default"], lifecycle["same"]}  # the requests spanned the swap
    assert versions[-1] == lifecycle["same"]
    print(f"{len(ids)} requests across the swap, {versions.count(lifecycle['default'])} by the old version")

    back = await post(w1, "/model/rollback", {"reason": "test rollback"})
    assert back.json() == {"retired": lifecycle["same"], "active": lifecycle["default"]}
    await until_served([w1, w2], lifecycle["default"])
    for w in (w1, w2):  # the version rolled back to was still loaded: no load, no wait
        assert 'tft_model_swaps_total{from_cache="true"} 1.0' in httpx.get(w.url + "/metrics").text
    again = await post(w1, "/model/rollback", {"reason": "once more"})
    assert again.status_code == 409 and "nothing to roll back" in again.json()["error"]["message"]

    conn = await asyncpg.connect(lifecycle["url"])
    try:
        audit = [tuple(r) for r in await conn.fetch(
            "SELECT command, status, source FROM command_audit WHERE command IN ('promote', 'rollback') ORDER BY id")]
        registry = {r["version"]: (r["status"], r["reason"]) for r in await conn.fetch(
            "SELECT version, status, reason FROM model_registry")}
    finally:
        await conn.close()
    assert audit == [("promote", "accepted", "http"), ("promote", "refused", "http"), ("promote", "refused", "http"),
                     ("promote", "accepted", "http"), ("rollback", "accepted", "http"), ("rollback", "refused", "http")]
    assert registry[lifecycle["default"]][0] == "active"
    assert registry[lifecycle["same"]][0] == "retired" and "rolled back" in registry[lifecycle["same"]][1]
    assert registry[lifecycle["narrow"]][0] == "candidate" and "coverage" in registry[lifecycle["narrow"]][1]


async def job_done(worker, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            r = await client.get(f"{worker.url}/model/jobs/{job_id}", headers={"X-API-Key": READER})
            if r.status_code == 200 and r.json()["status"] in ("succeeded", "failed"):
                return r.json()
            await asyncio.sleep(1)
    raise AssertionError(f"job {job_id} not done within {timeout} s")


async def test_retraining_over_http_and_kafka_trains_gates_and_reports_its_steps(lifecycle):
    w1, w2 = lifecycle["workers"]
    assert (await post(w1, "/model/retrain", {"retrain_type": "full"}, key=READER)).status_code == 403
    # One job, the full one (a fresh model, a new regime book): asked over HTTP, then the
    # same command twice more on Kafka, where it must not run again. Two jobs (this and an
    # incremental one) took three minutes of CI together on 2 cores.
    queued = await post(w1, "/model/retrain", {"retrain_type": "full", "symbols": ["SPY", "AAPL"],
                                               "reason": "test full"})
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["job_id"]

    kafka = Kafka()
    await kafka.start()
    command = orjson.dumps({"job_id": job_id, "retrain_type": "full", "symbols": ["SPY", "AAPL"],
                            "reason": "test full"})
    for _ in range(2):
        await kafka.send(w1.topic("model.commands"), command, b"job")
    await kafka.send(w1.topic("model.commands"), b'{"retrain_type": "partial"}', b"job")

    job = await job_done(w1, job_id)
    events = await kafka.collect(w1.topic("model.events"), lambda vs: any(
        v["kind"] in ("promoted", "kept", "failed") and v["job_id"] == job_id for v in vs), timeout=60)
    letters = await kafka.collect(w1.topic("model.commands.dlq"), lambda vs: len(vs) >= 1)
    await kafka.stop()
    assert job["status"] == "succeeded", job
    kinds = [e["kind"] for e in events if e["job_id"] == job_id]
    assert kinds[:2] == ["queued", "started"] and "progress" in kinds, kinds
    assert kinds[-3:-1] == ["trained", "gate"] and kinds[-1] in ("promoted", "kept")
    assert kinds.count("started") == 1  # delivered three times, run once
    gate = next(e for e in events if e["job_id"] == job_id and e["kind"] == "gate")["detail"]
    assert set(gate["horizons"]["21"]) == {"n", "candidate", "active", "random_walk"}
    assert job["version"].endswith(job_id.replace(":", "-")[-12:])
    assert job["promoted"] == (kinds[-1] == "promoted")
    assert "retrain_type" in letters[0]["reason"]
    print(job_id, job["version"], job["promoted"], job["message"])
