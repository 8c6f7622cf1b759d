"""Option chains on the stream: AAPL's real chains on options.quotes are fitted off the
serving path into the surface every worker reads, served by GET /market/options and
beside the forecasts of a worker whose AAPL bars end on the chain's days. A chain that is
not one, one older than the surface, and SPY's real sample of 2023-12-29 (a handful of
deep in-the-money calls) go to the dead-letter topic with their reasons."""
import shutil
import uuid
from datetime import date

import httpx
import orjson
import pytest

from features.chains import chain_days
from features.data import load, select
from stream.publish import chain_event, publish_chains
from tests.workers import SEED_BARS, SEED_SYMBOLS, new_worker, publish_and_wait

pytestmark = pytest.mark.integration
DAY = date(2014, 6, 2)


async def test_chains_become_surfaces_that_forecasts_carry(tmp_path, database_url, data_dir, kafka):
    w = new_worker(tmp_path, uuid.uuid4().hex[:8], database_url)
    w.start()
    try:
        bars = select(load(data_dir).all_bars(), SEED_SYMBOLS, end=str(DAY))
        await publish_and_wait(w, bars.groupby("symbol", group_keys=False).tail(SEED_BARS))
        days = {(c.symbol, c.as_of): c for c in chain_days(data_dir, ["AAPL", "SPY"])}
        topic = w.topic("options.quotes")
        await publish_chains(w.kafka_client(), topic, [chain_event(days["AAPL", date(2014, 6, 3)]),
                                                       chain_event(days["AAPL", DAY]),
                                                       chain_event(days["SPY", date(2023, 12, 29)])])
        await kafka.send(topic, orjson.dumps({"symbol": "AAPL", "as_of": "2014-06-02"}), key=b"AAPL")
        letters = await kafka.collect(w.topic("options.quotes.dlq"), lambda vs: len(vs) >= 3, timeout=120)
        reasons = sorted(v["reason"] for v in letters)
        assert len(reasons) == 3, reasons
        assert "AAPL's surface is of 2014-06-03; a chain of 2014-06-02 is older" in reasons
        assert any(r.startswith("no surface: ") and "SPY" not in r for r in reasons)  # the SPY sample
        assert any("spot" in r and "quotes" in r for r in reasons)  # the chain with no quotes or spot

        async with httpx.AsyncClient(base_url=w.url, timeout=30) as http:
            surface = (await http.get("/market/options/AAPL")).json()
            assert surface["as_of"] == "2014-06-03" and surface["quotes_received"] > 2000
            assert len(surface["smiles"]) >= 8 and surface["arbitrage"]["calendar_max_fall"] <= 0
            assert (await http.get("/market/options/SPY")).status_code == 404
            asked = {"include_options_greeks": True, "forecast_horizons": [1, 21]}
            aapl = (await http.post("/forecast/generate", content=orjson.dumps({"symbol": "AAPL", **asked}))).json()
            spy = (await http.post("/forecast/generate", content=orjson.dumps({"symbol": "SPY", **asked}))).json()
            metrics = (await http.get("/metrics")).text
    finally:
        w.stop()
        shutil.rmtree(w.state_dir, ignore_errors=True)
    assert aapl["status"] == "ok" and aapl["as_of"] == str(DAY)
    assert aapl["options"]["status"] == "ok" and aapl["options"]["chain_as_of"] == "2014-06-03"
    for f in aapl["forecasts"]:
        implied = f["implied"]
        assert implied["quantiles"]["0.1"] < f["quantiles"]["0.5"] < implied["quantiles"]["0.9"]
        assert 0 < implied["implied_move"] < 0.2 and implied["straddle"]["gamma"] > 0
        assert f["options"]["sigma"] > 0  # the model's own volatility prices these
    assert spy["status"] == "ok" and spy["options"]["status"] == "no_chain"
    assert all("implied" not in f for f in spy["forecasts"])  # nulls are left out
    assert 'tft_option_chains_total{outcome="fitted"} 1.0' in metrics
    assert 'tft_option_chains_total{outcome="dead_letter"} 3.0' in metrics
