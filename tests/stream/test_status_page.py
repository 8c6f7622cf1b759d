"""The status page in a real headless Chromium (Debian's, driven by Playwright): it loads,
shows the running worker's own figures, and updates after new requests and a dead letter.
STATUS_SCREENSHOT=path keeps a screenshot there (docs/results/status/ holds one)."""
import asyncio
import os
import re
import shutil

import httpx
import orjson
import pytest

from features.data import load, select
from tests.workers import publish_and_wait

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's own calls home are refused on a closed network, many at a time: none are made.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


async def text(page, selector: str) -> str:
    return (await page.text_content(selector)) or ""


async def until(page, selector: str, holds, timeout: float = 30) -> str:
    for _ in range(int(timeout * 4)):
        if holds(value := await text(page, selector)):
            return value
        await asyncio.sleep(0.25)
    raise AssertionError(f"{selector} stayed {value!r}")


async def test_the_status_page_shows_the_workers_figures_and_follows_them(worker, kafka, tmp_path, data_dir):
    from playwright.async_api import async_playwright
    # SPY's real last bar again (a bar for a day held replaces it): at least one bar since any restart
    await publish_and_wait(worker, select(load(data_dir).all_bars(), ["SPY"], "2023-12-29", "2023-12-29"))
    async with httpx.AsyncClient(base_url=worker.url, timeout=30) as http:
        version = (await http.get("/model/status")).json()["model_version"]
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 1400})
            await page.goto(worker.url + "/")
            assert await until(page, "#model", lambda v: v not in ("…", "none yet")) == version
            # bars since the worker started (the recovery test restarts it, its windows from the changelog)
            bars = float((await http.get("/status.json")).json()["bars_ingested"])
            assert bars >= 1 and float((await until(page, "#bars", lambda v: v not in ("–", "0")))
                                       .replace(",", "")) == bars
            regimes = await page.locator("#regimes tr td:first-child").all_text_contents()
            for symbol in ("SPY", "AAPL", "TLT"):  # the seeded symbols, each with its regime
                assert (await http.get(f"/market/regime/{symbol}")).status_code == 200 and symbol in regimes
            assert re.match(r"\d+ partition|\w", await text(page, "#lag"))

            before = await text(page, "#updated")
            for symbol in ("SPY", "AAPL", "TLT") * 10:
                assert (await http.post("/forecast/generate", json={"symbol": symbol})).status_code == 200
            await kafka.send(worker.topic("market.ticks"), orjson.dumps({"symbol": "SPY", "ts": "2023-12-29",
                                                                         "open": 1, "high": 2, "low": 3, "close": 1}),
                             key=b"SPY")
            await until(page, "#updated", lambda v: v != before)
            per_min = await until(page, "#per_min", lambda v: v not in ("–", "0"))
            assert float(per_min.replace(",", "")) > 0
            assert float((await until(page, "#p95", lambda v: v != "–")).replace(",", "")) > 0
            reasons = await until(page, "#dead_letters", lambda v: "above high" in v)
            assert "market.ticks" in reasons
            await page.screenshot(path=str(tmp_path / "status.png"), full_page=True)
            if target := os.environ.get("STATUS_SCREENSHOT"):
                await page.screenshot(path=target, full_page=True)
            await browser.close()
    assert (tmp_path / "status.png").stat().st_size > 20_000
