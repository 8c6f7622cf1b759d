"""State a worker once held in memory, kept in PostgreSQL instead: the retrain queue, the
risk level last told per symbol, what the triggers saw last. Each test runs in a
transaction that is rolled back."""
from datetime import date

import pytest

from persistence.repositories.model_jobs import ModelJobsRepository
from persistence.repositories.risk_levels_told import RiskLevelsToldRepository
from persistence.repositories.trigger_memory import TriggerMemoryRepository

pytestmark = pytest.mark.integration


@pytest.fixture
async def conn(pool):
    async with pool.acquire() as c:
        tx = c.transaction()
        await tx.start()
        yield c
        await tx.rollback()


async def test_waiting_jobs_are_claimed_high_priority_first_then_in_the_order_they_came(conn):
    repo = ModelJobsRepository(conn)
    await conn.execute("UPDATE model_jobs SET status = 'failed' WHERE status = 'queued'")  # earlier tests' leftovers
    for job, priority in [("n1", "normal"), ("n2", "normal"), ("h1", "high"), ("n3", "normal"), ("h2", "high")]:
        assert await repo.add(f"wq-{job}", {"retrain_type": "incremental", "priority": priority})
    claimed = [await repo.claim_next() for _ in range(6)]
    assert [c and c[0] for c in claimed] == ["wq-h1", "wq-h2", "wq-n1", "wq-n2", "wq-n3", None]
    assert claimed[0][1]["priority"] == "high"
    assert (await repo.get("wq-n1"))["status"] == "running"


async def test_the_last_told_risk_level_is_replaced_per_symbol(conn):
    repo = RiskLevelsToldRepository(conn)
    assert await repo.of_symbols(symbols=["WST1", "WST2"]) == {}
    await repo.tell(rows=[("WST1", "elevated", date(2023, 12, 28), "v1"), ("WST2", "high", date(2023, 12, 28), "v1")])
    await repo.tell(rows=[("WST1", "normal", date(2023, 12, 29), "v1")])
    assert await repo.of_symbols(symbols=["WST1", "WST2", "WST3"]) == {"WST1": "normal", "WST2": "high"}


async def test_trigger_memory_keeps_the_latest_value(conn):
    repo = TriggerMemoryRepository(conn)
    assert await repo.get(name="wst-regime") is None
    await repo.put(name="wst-regime", value="Bull")
    await repo.put(name="wst-regime", value="Crisis")
    assert await repo.get(name="wst-regime") == "Crisis"
