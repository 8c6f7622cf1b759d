"""The alert rules in a real Prometheus (Debian's package, as `make setup` installs it)
scraping the shared worker every second: every rule of alerts.yml loads and evaluates
on the worker's own series, and a burst of failed requests over HTTP reaches the
counter, lifts the error rate's expression over its threshold and sets its alert
pending."""
import asyncio
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import until
from tests.workers import free_port

pytestmark = pytest.mark.integration
ALERTS = Path(__file__).resolve().parents[2] / "monitoring" / "prometheus" / "alerts.yml"
FAILED = {"source": "http", "status": "error", "code": "unknown_symbol"}  # of tft_forecast_requests_total
BURST = 20


class Prometheus:
    """A server of the test's own, in `folder`, evaluating alerts.yml every second."""

    def __init__(self, folder: Path, target: str):
        self.folder, self.url = folder, f"http://127.0.0.1:{free_port()}"
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "rule_files": [str(ALERTS)],
                  "scrape_configs": [{"job_name": "tft-forecast", "static_configs": [{"targets": [target]}]}]}
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.http = httpx.AsyncClient(base_url=self.url, timeout=10)

    async def start(self, binary: str) -> None:
        with open(self.folder / "prometheus.log", "wb") as log:
            self.proc = subprocess.Popen([binary, f"--config.file={self.folder / 'prometheus.yml'}",
                                          f"--storage.tsdb.path={self.folder / 'data'}",
                                          f"--web.listen-address={self.url.removeprefix('http://')}"],
                                         stdout=log, stderr=subprocess.STDOUT)

        async def ready() -> bool:
            try:
                return (await self.http.get("/-/ready")).status_code == 200
            except httpx.TransportError:
                return False
        await self.wait(ready, 15, "prometheus ready")

    async def stop(self) -> None:
        await self.http.aclose()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    async def query(self, promql: str) -> list[float]:
        """The instant vector's values."""
        answer = (await self.http.get("/api/v1/query", params={"query": promql})).json()
        assert answer["status"] == "success", answer
        return [float(s["value"][1]) for s in answer["data"]["result"]]

    async def rules(self) -> list[dict]:
        return [r for g in (await self.http.get("/api/v1/rules")).json()["data"]["groups"] for r in g["rules"]]

    async def wait(self, predicate, timeout: float, what: str):
        """tests.helpers.until, with the server's log when it gives up."""
        try:
            return await until(predicate, timeout, what)
        except AssertionError as e:
            log = (self.folder / "prometheus.log").read_text(errors="replace").splitlines()[-30:]
            raise AssertionError(f"{e}\nprometheus log:\n" + "\n".join(log)) from None


@pytest.fixture
async def prometheus(worker, tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is missing: `make setup` installs Debian's prometheus package")
    server = Prometheus(tmp_path, worker.url.removeprefix("http://"))
    try:
        await server.start(binary)
        yield server
    finally:
        await server.stop()


def failed_requests(exposition: str) -> float:
    """The worker's own count of FAILED, from its /metrics."""
    return next(s.value for family in text_string_to_metric_families(exposition) for s in family.samples
                if s.name == "tft_forecast_requests_total" and s.labels == FAILED)


async def test_a_burst_of_failed_requests_sets_the_error_rate_alert_pending(worker, prometheus):
    rules = yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]

    async def evaluated() -> list[dict]:
        found = await prometheus.rules()
        return found if found and all(r["health"] == "ok" for r in found) else []
    loaded = await prometheus.wait(evaluated, 15, "every rule evaluated without an error")
    assert {r["name"] for r in loaded} == {r["alert"] for r in rules}

    def scraped(total: float):
        async def equal() -> bool:
            labels = ", ".join(f'{k}="{v}"' for k, v in FAILED.items())
            return await prometheus.query(f'tft_forecast_requests_total{{job="tft-forecast", {labels}}}') == [total]
        return equal

    async with httpx.AsyncClient(base_url=worker.url, timeout=30) as client:
        # One failed request first, so that the counter has a series, and a sample of it, before the burst
        await client.post("/forecast/generate", json={"symbol": "NOPE"})
        before = failed_requests((await client.get("/metrics")).text)
        await prometheus.wait(scraped(before), 10, f"{before:g} failed requests in prometheus")
        answers = await asyncio.gather(*[client.post("/forecast/generate", json={"symbol": "NOPE"})
                                         for _ in range(BURST)])
        assert {a.status_code for a in answers} == {404}
    await prometheus.wait(scraped(before + BURST), 10, f"{before + BURST:g} failed requests in prometheus")
    error_rate = next(r["expr"] for r in rules if r["alert"] == "ErrorRateHigh")
    over = await prometheus.wait(lambda: prometheus.query(error_rate), 10, "the error rate over its threshold")
    assert over[0] > 0.05
    pending = 'ALERTS{alertname="ErrorRateHigh", alertstate="pending", severity="warning"}'
    assert await prometheus.wait(lambda: prometheus.query(pending), 10, "ErrorRateHigh pending") == [1.0]
