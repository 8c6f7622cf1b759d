import asyncio

import pytest

from inference.batcher import MicroBatcher


async def test_requests_arriving_together_share_one_call():
    calls = []

    def score(items):
        calls.append(list(items))
        return [x * 10 for x in items]

    b = MicroBatcher(score, max_size=100, max_wait_s=0.02)
    results = await asyncio.gather(*(b.submit(i) for i in range(7)))
    assert results == [i * 10 for i in range(7)]
    assert calls == [list(range(7))]


async def test_a_full_batch_closes_without_waiting():
    calls = []
    b = MicroBatcher(lambda xs: calls.append(len(xs)) or xs, max_size=4, max_wait_s=60)
    results = await asyncio.wait_for(asyncio.gather(*(b.submit(i) for i in range(8))), 5)
    assert results == list(range(8)) and calls == [4, 4]


async def test_a_failing_batch_fails_its_waiters_and_the_next_batch_works():
    fail = True

    def score(xs):
        if fail:
            raise RuntimeError("model exploded")
        return xs

    b = MicroBatcher(score, max_size=10, max_wait_s=0.001)
    with pytest.raises(RuntimeError, match="exploded"):
        await b.submit(1)
    fail = False
    assert await b.submit(2) == 2


async def test_batch_sizes_are_reported():
    sizes = []
    b = MicroBatcher(lambda xs: xs, max_size=3, max_wait_s=0.005,
                     on_batch=lambda n, s: sizes.append(n))
    await asyncio.gather(*(b.submit(i) for i in range(5)))
    assert sorted(sizes) == [2, 3]


async def test_a_consumed_batch_is_scored_at_once_with_what_was_pending():
    calls = []
    b = MicroBatcher(lambda xs: calls.append(list(xs)) or xs, max_size=4, max_wait_s=60)
    alone = asyncio.ensure_future(b.submit("http"))  # would wait a minute for company
    await asyncio.sleep(0)
    results = await asyncio.wait_for(b.submit_many(list(range(6))), 5)
    assert results == list(range(6)) and await alone == "http"
    assert calls == [["http", 0, 1, 2], [3, 4, 5]]
