"""stream/client.py against the shared worker: results found by request id, batches, a
request sent again answered from its receipt, timeouts, and typed events."""
import asyncio
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest

from schemas import BatchRequest, ForecastResult, RegimeEvent, encode
from stream.admin import ensure_topics
from stream.client import ForecastClient, ForecastRefused, ForecastTimeout
from stream.publish import bars_from_panel, publish_bars
from stream.settings import load_settings
from tests.workers import BOOTSTRAP, Kafka, settled

ROOT = Path(__file__).resolve().parents[2]


def client_of(worker) -> ForecastClient:
    s = load_settings(worker.env)
    return ForecastClient(s.stream.bootstrap_servers, s.stream.topic_prefix, s.access, timeout_s=20)


def test_importing_the_client_loads_neither_faust_nor_torch():
    code = "import stream.client, sys; assert not {'faust', 'torch'} & set(sys.modules), 'loaded'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


@pytest.mark.integration
async def test_forecasts_come_back_typed_each_to_its_own_request(worker):
    async with client_of(worker) as client:
        rid = f"client-{uuid.uuid4().hex[:8]}"
        result = await client.forecast("SPY", horizons=[1, 5], request_id=rid)
        together = await asyncio.gather(*(client.forecast(s, horizons=[5]) for s in ("AAPL", "SPY", "AAPL")))
        with pytest.raises(ForecastRefused) as refused:
            await client.forecast("NOPE")
    assert isinstance(result, ForecastResult) and result.status == "ok" and result.request_id == rid
    assert result.symbol == "SPY" and result.as_of == date(2023, 12, 29)
    assert [f.horizon for f in result.forecasts] == [1, 5]
    assert [r.symbol for r in together] == ["AAPL", "SPY", "AAPL"]
    assert len({r.request_id for r in together}) == 3
    assert refused.value.error.code == "unknown_symbol" and "NOPE" in str(refused.value)


@pytest.mark.integration
async def test_a_batch_is_one_message_answered_per_symbol_in_order(worker):
    async with client_of(worker) as client:
        batch = await client.batch(BatchRequest(symbols=["AAPL", "NOPE", "SPY"], forecast_horizons=[5]))
    assert [r.request_id for r in batch.results] == [f"{batch.batch_id}:{s}" for s in ("AAPL", "NOPE", "SPY")]
    assert [r.status for r in batch.results] == ["ok", "error", "ok"]
    assert batch.results[1].error.code == "unknown_symbol"
    assert {r.batch_id for r in batch.results} == {batch.batch_id}


@pytest.mark.integration
async def test_a_request_sent_again_with_its_id_gets_the_same_result(worker):
    await settled([worker], ["SPY"])  # else a context series arriving in between could change the forecast
    rid = f"again-{uuid.uuid4().hex[:8]}"
    async with client_of(worker) as client:
        first = await client.forecast("SPY", horizons=[1, 21], request_id=rid)
        second = await client.forecast("SPY", horizons=[1, 21], request_id=rid)
    assert encode(second) == encode(first)  # latency_ms included: the receipt's


@pytest.mark.integration
async def test_an_unanswered_request_is_retried_with_its_id_then_times_out():
    prefix = f"idle-{uuid.uuid4().hex[:8]}."  # topics no worker reads
    await ensure_topics({"bootstrap_servers": BOOTSTRAP}, [prefix + "forecast.requests", prefix + "forecast.results"],
                        1, 1)
    rid = f"lost-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    async with ForecastClient(BOOTSTRAP, prefix, timeout_s=0.5, retries=2) as client:
        with pytest.raises(ForecastTimeout, match=rid):
            await client.forecast("SPY", request_id=rid)
    assert 1.5 <= time.monotonic() - started < 10
    sent = await Kafka().collect(prefix + "forecast.requests", lambda values: len(values) >= 3)
    assert [v["request_id"] for v in sent] == [rid] * 3


@pytest.mark.integration
async def test_subscribe_yields_typed_events_from_now_on(worker, panel):
    last = bars_from_panel(panel[panel["symbol"] == "AAPL"].tail(1))  # the seeded bar again: nothing changes

    async def next_event(events):
        async for event in events:
            if event.symbol == "AAPL":
                return event

    async with client_of(worker) as client:
        waiting = asyncio.create_task(next_event(client.subscribe("regime.events")))
        for _ in range(20):  # the subscription takes its place at the end when it first reads: until then, again
            await publish_bars(worker.kafka_client(), worker.topic("market.ticks"), last, 0, progress=False)
            if (await asyncio.wait([waiting], timeout=1))[0]:
                break
        else:
            waiting.cancel()
            pytest.fail("no regime event for AAPL's bar within 20 s")
    event = waiting.result()
    # From the start of the topic, AAPL's first event would be the change on its first seeded bar.
    assert isinstance(event, RegimeEvent) and event.kind == "heartbeat" and event.as_of == date(2023, 12, 29)
