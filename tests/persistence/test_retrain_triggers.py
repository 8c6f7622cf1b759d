import asyncio

import pytest

from persistence.repositories.retrain_triggers import RetrainTriggersRepository

pytestmark = pytest.mark.integration


async def test_a_period_is_claimed_once_however_many_workers_ask(pool):
    async def claim():
        async with pool.acquire() as conn:
            return await RetrainTriggersRepository(conn).claim("schedule-daily", "2024-01-02",
                                                               "schedule-daily-2024-01-02", "daily")
    assert sorted(await asyncio.gather(claim(), claim())) == [False, True]
    async with pool.acquire() as conn:
        assert await RetrainTriggersRepository(conn).claim("schedule-daily", "2024-01-03", "j", "next day")
        assert [r["period"] for r in await RetrainTriggersRepository(conn).recent()][:2] == ["2024-01-03",
                                                                                          "2024-01-02"]
