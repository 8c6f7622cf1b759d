"""Access: a worker on a SASL/SCRAM listener of a real broker, API keys with roles over
HTTP, operator commands audited, and no secret in the worker's log or answers.

The broker is this module's own, with a PLAINTEXT and a SASL_PLAINTEXT listener
(scripts/services.sh, KAFKA_SASL_PORT); the worker reaches it only through SASL.
"""
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson
import pytest

from tests.workers import Kafka, free_port, new_worker, results_for, seed_bars

pytestmark = pytest.mark.integration

SERVICES = Path(__file__).resolve().parents[2] / "scripts" / "services.sh"
SASL_USER, SASL_PASSWORD = "tft-worker", "sasl-" + uuid.uuid4().hex
OPERATOR_KEY, READER_KEY = "op-" + uuid.uuid4().hex, "rd-" + uuid.uuid4().hex
PG_PASSWORD = "pg-" + uuid.uuid4().hex  # the test server trusts local connections: any password passes
SECRETS = (SASL_PASSWORD, OPERATOR_KEY, READER_KEY, PG_PASSWORD)


@pytest.fixture(scope="module")
def broker():
    run_dir = Path(tempfile.mkdtemp(prefix="tft-sasl-"))
    ports = {k: str(free_port()) for k in ("KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "KAFKA_SASL_PORT")}
    env = {"TFT_RUN_DIR": str(run_dir), **ports, "KAFKA_SASL_USERNAME": SASL_USER, "KAFKA_SASL_PASSWORD": SASL_PASSWORD}

    def call(*args: str) -> None:
        subprocess.run([str(SERVICES), *args], env={**os.environ, **env}, check=True, capture_output=True, timeout=120)

    call("start", "kafka")
    yield {"plain": f"127.0.0.1:{ports['KAFKA_PORT']}", "sasl": f"127.0.0.1:{ports['KAFKA_SASL_PORT']}"}
    call("stop", "kafka")
    shutil.rmtree(run_dir, ignore_errors=True)


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{password}@{parts.hostname}:{parts.port}"))


@pytest.fixture(scope="module")
async def worker(broker, tmp_path_factory, database_url, data_dir):
    w = new_worker(tmp_path_factory.mktemp("sasl"), uuid.uuid4().hex[:8], with_password(database_url, PG_PASSWORD),
                   bootstrap=broker["sasl"], KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
                   KAFKA_SASL_MECHANISM="SCRAM-SHA-512", KAFKA_SASL_USERNAME=SASL_USER,
                   KAFKA_SASL_PASSWORD=SASL_PASSWORD, TFT_API_KEYS=f"operator:{OPERATOR_KEY},reader:{READER_KEY}",
                   RATE_LIMITS="free:100000,trial:1")
    w.start()
    await seed_bars(data_dir, [w], ["SPY", "VIX"])
    yield w
    w.stop()


def client_of(worker) -> Kafka:
    return Kafka(client=worker.kafka_client())


async def test_a_worker_behind_sasl_scram_serves_requests_over_kafka(worker):
    kafka = client_of(worker)
    await kafka.start()
    try:
        rid = f"sasl-{uuid.uuid4().hex[:8]}"
        await kafka.send(worker.topic("forecast.requests"), orjson.dumps({"request_id": rid, "symbol": "SPY"}), b"SPY")
        (result,) = [v for v in await kafka.collect(worker.topic("forecast.results"), results_for(rid))
                     if v["request_id"] == rid]
    finally:
        await kafka.stop()
    assert result["status"] == "ok" and result["as_of"] == "2023-12-29"


async def test_the_sasl_listener_refuses_a_wrong_password(worker, broker):
    kafka = Kafka(client={"bootstrap_servers": broker["sasl"], "security_protocol": "SASL_PLAINTEXT",
                          "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": SASL_USER,
                          "sasl_plain_password": "not-" + SASL_PASSWORD, "request_timeout_ms": 5000})
    with pytest.raises(Exception, match="Unable to bootstrap"):
        await kafka.start()


async def test_keys_and_roles_guard_the_http_api(worker):
    body = orjson.dumps({"symbol": "SPY", "user_id": "keyed"})
    async with httpx.AsyncClient(base_url=worker.url) as http:
        anonymous = await http.post("/forecast/generate", content=body)
        wrong = await http.post("/forecast/generate", content=body, headers={"X-API-Key": "nope"})
        reader = await http.post("/forecast/generate", content=body, headers={"X-API-Key": READER_KEY})
        status = await http.get("/model/status", headers={"X-API-Key": READER_KEY})
        # Probes and scraping stay open: a kubelet and Prometheus carry no key.
        probes = [(await http.get(p)).status_code for p in ("/live", "/ready", "/health", "/metrics", "/openapi.json")]
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "unauthorized")
    assert (wrong.status_code, wrong.json()["error"]["message"]) == (401, "unknown API key")
    assert reader.status_code == 200 and reader.json()["status"] == "ok"
    assert status.status_code == 200
    assert probes == [200] * 5


async def test_only_an_operator_sets_a_tier_and_every_attempt_is_audited(worker):
    user = f"u-{uuid.uuid4().hex[:8]}"
    tier = orjson.dumps({"tier": "trial"})
    ask = orjson.dumps({"symbol": "SPY", "user_id": user})
    async with httpx.AsyncClient(base_url=worker.url, headers={"X-API-Key": READER_KEY}) as http:
        refused = await http.put(f"/users/{user}/tier", content=tier)
        unknown = await http.put(f"/users/{user}/tier", content=b'{"tier": "gold"}',
                                 headers={"X-API-Key": OPERATOR_KEY})
        accepted = await http.put(f"/users/{user}/tier", content=tier, headers={"X-API-Key": OPERATOR_KEY})
        first = await http.post("/forecast/generate", content=ask)
        second = await http.post("/forecast/generate", content=ask)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    assert unknown.status_code == 422 and "gold" in unknown.json()["error"]["message"]
    assert accepted.json() == {"user_id": user, "tier": "trial", "limit_per_minute": 1}
    assert first.status_code == 200  # the trial tier admits one request a minute
    assert second.status_code == 429 and int(second.headers["Retry-After"]) >= 1
    conn = await asyncpg.connect(worker.env["DATABASE_URL"])
    try:
        rows = await conn.fetch("SELECT actor, status, reason, params FROM command_audit "
                                "WHERE command = 'set_tier' AND params->>'user_id' = $1 ORDER BY id", user)
    finally:
        await conn.close()
    assert [(r["status"], r["actor"].split(":")[0]) for r in rows] == [
        ("refused", "reader"), ("refused", "operator"), ("accepted", "operator")]
    assert all(key[:12] not in r["actor"] for r in rows for key in SECRETS)


async def test_no_secret_reaches_the_log_or_an_answer(worker):
    async with httpx.AsyncClient(base_url=worker.url) as http:
        answers = [(await http.get("/model/status", headers={"X-API-Key": READER_KEY})).text,
                   (await http.get("/health")).text, (await http.get("/openapi.json")).text,
                   (await http.post("/forecast/generate", content=b"{", headers={"X-API-Key": OPERATOR_KEY})).text,
                   (await http.get("/metrics")).text]
    log = worker.log_path.read_text(errors="replace")
    assert "ready: model loaded" in log  # the worker's own log, from its start
    for secret in SECRETS:
        assert secret not in log, "a secret is in the worker's log"
        assert not any(secret in a for a in answers), "a secret is in an answer"
