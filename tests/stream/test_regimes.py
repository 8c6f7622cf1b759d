"""Regimes per symbol on the stream: real JPM bars of 2022-2023 replayed, a regime event
for every bar (a change when the regime turns), the changes kept in PostgreSQL, the
state served by GET /market/regime/{symbol} and carried by every forecast."""
import asyncio
import time

import asyncpg
import httpx
import orjson
import pytest

from features.data import load, select
from schemas import encode
from stream.publish import series_from_panel
from tests.workers import publish_and_wait

pytestmark = pytest.mark.integration
SYMBOL = "JPM"  # no other test gives the shared worker its bars


async def test_every_bar_reads_the_regime_again_and_changes_are_kept(worker, kafka, data_dir, database_url):
    bars = select(load(data_dir).all_bars(), [SYMBOL], "2022-05-02", "2023-12-29")
    await publish_and_wait(worker, bars)
    events = await kafka.collect(worker.topic("regime.events"), lambda vs: any(
        v["symbol"] == SYMBOL and v["as_of"] == "2023-12-29" for v in vs), timeout=60)
    mine = [v for v in events if v["symbol"] == SYMBOL]
    days = [str(d.date()) for d in bars["date"]]
    assert [v["as_of"] for v in mine] == days[days.index(mine[0]["as_of"]):]  # one per bar, in order, to the end
    assert len(mine) > 300 and mine[0]["kind"] == "change" and mine[0].get("previous") is None
    for before, now in zip(mine, mine[1:]):
        if now["kind"] == "change":
            assert (now.get("previous"), now["since"], now["sessions"]) == (before["regime"]["name"], now["as_of"], 1)
            assert now["regime"]["name"] != before["regime"]["name"]
        else:
            assert now["regime"]["name"] == before["regime"]["name"]
            assert (now["since"], now["sessions"]) == (before["since"], before["sessions"] + 1)
    changes = [(v["as_of"], v["regime"]["name"]) for v in mine if v["kind"] == "change"]
    assert len(changes) >= 2  # 2022's bear market and March 2023's banks were not one regime

    async with httpx.AsyncClient(base_url=worker.url) as http:
        state = (await http.get(f"/market/regime/{SYMBOL}")).json()
        assert state == {k: v for k, v in mine[-1].items() if k != "kind"}
        assert (await http.get("/market/regime/VIX")).status_code == 404  # not a price: no regime
        assert (await http.get("/market/regime/no%20such")).status_code == 422
        result = (await http.post("/forecast/generate", content=orjson.dumps({"symbol": SYMBOL}))).json()
    assert result["symbol_regime"]["name"] == state["regime"]["name"]
    assert result["regime"]["name"] in ("Bull", "Bear", "Sideways", "Crisis")  # the market's, from SPY

    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + 30
        while True:
            kept = [(str(r["as_of"]), r["regime"]) for r in await conn.fetch(
                "SELECT as_of, regime FROM market_regime_history WHERE symbol = $1 ORDER BY as_of", SYMBOL)]
            if len(kept) >= len(changes) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    assert kept == changes



async def test_a_series_joins_bar_by_bar_and_its_regime_is_read_once(worker, kafka, data_dir):
    """A backfill as one message: its impossible bar and its misfit go to the DLQ with
    their days, the others join, and the symbol's regime is read at the series' end."""
    symbol = "PG"  # no other test gives the shared worker its bars
    bars = select(load(data_dir).all_bars(), [symbol], end="2023-12-29").tail(400).reset_index(drop=True)
    bars.loc[100, ["open", "high", "low", "close"]] *= 3  # a possible bar, but a jump no window takes
    bars.loc[200, "open"] = bars.loc[200, "high"] * 1.5  # open above the day's high: impossible
    (series,) = series_from_panel(bars)
    await kafka.send(worker.topic("market.ticks"), encode(series), symbol.encode())

    def mine(values: list[dict]) -> list[dict]:
        return [v for v in values if v.get("key", v.get("symbol")) == symbol]
    letters = mine(await kafka.collect(worker.topic("market.ticks.dlq"), lambda vs: len(mine(vs)) >= 2, timeout=60))
    why = {l["reason"].split(": ")[1]: l["reason"].split(": ")[2] for l in letters}  # day -> its problem
    assert why.keys() == {str(bars.loc[i, "date"].date()) for i in (100, 200)}
    assert why[str(bars.loc[100, "date"].date())].startswith("close") and \
        why[str(bars.loc[200, "date"].date())].startswith("open")
    assert all(l["reason"].startswith("1 of the series' bars refused: ") for l in letters)

    await kafka.collect(worker.topic("regime.events"), lambda vs: mine(vs), timeout=60)
    await asyncio.sleep(1)  # a second event, were there one per bar, would be on the topic by now
    (event,) = mine(await kafka.collect(worker.topic("regime.events"), lambda vs: True))
    assert event["as_of"] == "2023-12-29"
    async with httpx.AsyncClient(base_url=worker.url) as http:
        result = (await http.post("/forecast/generate", content=orjson.dumps({"symbol": symbol}))).json()
    assert result["status"] == "ok", result
    assert result["symbol_regime"]["name"] == event["regime"]["name"]
