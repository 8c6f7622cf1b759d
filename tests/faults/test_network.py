"""The network between a worker and its services goes bad, through Toxiproxy: 200 ms of
latency on every connection, then every connection reset, then 30 s cut off from the
broker. Nothing is lost, the worker recovers by itself, and /health says what is so
throughout: ok under latency (every service still answers), degraded while connections
are reset and while the broker is out of reach, ok again after. benchmarks/network_faults.py
runs longer faults."""
import uuid

import pytest

from tests.faults.kit import FAILOVER_SYMBOLS, assert_same_content, rows_for
from tests.faults.network import FAULTS, network_faults, proxied_worker
from tests.faults.toxiproxy import Toxiproxy
from tests.workers import seed_bars, settled

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(tmp_path):
    p = Toxiproxy(tmp_path / "toxiproxy.log")
    p.start()
    yield p
    p.stop()


async def test_latency_resets_and_30_s_without_the_broker_lose_nothing_and_health_tells_the_truth(
        services, proxy, tmp_path, data_dir):
    worker = proxied_worker(services, proxy, tmp_path, uuid.uuid4().hex[:8])
    worker.start()
    try:
        await seed_bars(data_dir, [worker], [*FAILOVER_SYMBOLS, "VIX"])
        await settled([worker], FAILOVER_SYMBOLS)
        run = await network_faults(services, proxy, worker, rate=10,
                                   seconds={"latency": 8, "resets": 6, "partition": 30}, between_s=5, tag="net")
        ids = list(run.flow.sent)
        rows = await rows_for(services.database_url, ids)
    finally:
        worker.stop()
    print(run.summary())
    # flow() has already found every request answered; Redis was away while connections reset
    assert_same_content(run.flow.results, ids, redis_away=True)
    assert rows == (len(ids), len(ids))
    assert all(p.status != "no answer" for p in run.probes), "the worker's web server stopped answering"
    under_latency = run.probes_in("latency", grace_s=2)
    assert sum(p.status == "ok" for p in under_latency) > len(under_latency) / 2, under_latency
    assert all(p.status == "degraded" for p in run.probes_in("resets", grace_s=2))
    cut_off = run.probes_in("partition", grace_s=3)
    assert cut_off and all(p.status == "degraded" and p.checks["kafka"] != "ok" for p in cut_off), cut_off
    assert all(run.recovered_s(fault) < 30 for fault in FAULTS), run.summary()  # each time by itself
