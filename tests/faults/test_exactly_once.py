"""Exactly once for a read_committed subscriber (TFT_PROCESSING_GUARANTEE=exactly_once,
stream/delivery.py): a worker killed -9 mid-stream, each time while a transaction with
results in it is open, and restarted, once with its state deleted, answers every
request; a subscriber reading forecast.results read_committed sees each answer exactly
once, while a read_uncommitted one sees the aborted attempts too; PostgreSQL holds each
request once."""
import uuid

import pytest

from tests.faults.kit import SYMBOLS, answers, kill_inside_a_transaction, kill_rounds
from tests.workers import new_worker, seed_bars

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def worker(services, tmp_path_factory, data_dir):
    w = new_worker(tmp_path_factory.mktemp("exactly-once"), uuid.uuid4().hex[:8], services.database_url,
                   bootstrap=services.bootstrap, redis_at=("127.0.0.1", services.ports["REDIS_PORT"], 0),
                   KAFKA_SESSION_TIMEOUT_S="6", TFT_PROCESSING_GUARANTEE="exactly_once")
    w.start()
    await seed_bars(data_dir, [w], [*SYMBOLS, "VIX"])
    yield w
    w.stop()


async def test_killed_inside_a_transaction_twice_each_result_is_seen_once_read_committed(services, worker, kafka):
    results = worker.topic("forecast.results")
    dups = await kill_rounds(services, worker, kafka, rounds=2, delete_state_at=1, isolation_level="read_committed",
                             kill=lambda: kill_inside_a_transaction(worker, services.bootstrap, results))
    assert dups == 0
    # Each kill left a transaction open with results in it: read uncommitted, its results
    # are there, and so are the ones the restarted worker gave for the same requests.
    aborted = sum(n > 1 for n in (await answers(services.bootstrap, results, "read_uncommitted")).values())
    print(f"3400 requests; {aborted} seen twice read_uncommitted, none read_committed")
    assert aborted >= 2
