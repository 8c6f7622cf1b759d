import time

import pytest
import redis.asyncio as redis

from persistence.cache import TIERS_KEY, Backoff, RedisGate, SharedValues, SlidingWindow

pytestmark = pytest.mark.integration


def gate(client, limits=None, retry_s=60.0):
    return RedisGate(client, limits or {"free": 3, "internal": 0}, "free", 60, Backoff(retry_s))


async def test_rate_limits_follow_the_user_tier_and_say_when_to_retry(redis_client):
    g = gate(redis_client)
    answers = await g.admit([("bob", f"b{i}") for i in range(4)])
    assert [a[0] for a in answers] == [True, True, True, False]
    allowed, limit, retry_after, receipt = answers[3]
    assert limit == 3 and 59 < retry_after <= 60 and receipt is None
    await redis_client.hset(TIERS_KEY, "carol", "internal")
    assert all(a[0] for a in await g.admit([("carol", f"c{i}") for i in range(10)]))


async def test_a_request_answered_before_is_recognised_and_not_counted_again(redis_client):
    g = gate(redis_client, {"free": 1})
    assert (await g.admit([("dan", "d1")]))[0][0] is True
    await g.remember([("d1", b"receipt-of-d1")])
    again = await g.admit([("dan", "d1")])
    assert again == [(True, 0, 0.0, b"receipt-of-d1")]
    assert (await g.admit([("dan", "d2")]))[0][0] is False  # d1 still holds dan's one slot


async def test_without_redis_limits_are_kept_per_worker_and_redis_is_retried():
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    g = gate(dead, retry_s=0.0)
    answers = await g.admit([("erin", f"e{i}") for i in range(4)])
    assert [a[0] for a in answers] == [True, True, True, False] and g.backoff.degraded
    await g.remember([("e0", b"x")])  # nothing to remember it in: no error either
    shared = SharedValues(dead, "t:", 60, g.backoff)
    assert await shared.get_many(["k"]) == [None]
    await dead.aclose()


def test_sliding_window_admits_at_most_the_limit_in_any_minute():
    w = SlidingWindow(window_s=60)
    t0 = 1000.0
    assert [w.admit("u", 2, t0 + dt)[0] for dt in (0, 1, 2)] == [True, True, False]
    # a fixed window starting at t0 + 30 would admit two more at once; a sliding one waits
    assert w.admit("u", 2, t0 + 30)[0] is False
    allowed, wait = w.admit("u", 2, t0 + 59)
    assert not allowed and wait == pytest.approx(1.0)
    assert w.admit("u", 2, t0 + 60.5)[0] is True
    assert w.admit("v", 0, t0)[0] is True  # 0 is unlimited


async def test_shared_values_round_trip_with_a_time_to_live(redis_client):
    shared = SharedValues(redis_client, "t:", 30, Backoff(1.0))
    await shared.put_many([("a", b"1"), ("b", b"2")])
    assert await shared.get_many(["a", "missing", "b"]) == [b"1", None, b"2"]
    assert 0 < await redis_client.ttl("t:a") <= 30


def test_backoff_waits_before_trying_again():
    b = Backoff(retry_s=0.05)
    assert b.ready() and not b.degraded
    b.failed("x", OSError("down"))
    assert not b.ready() and b.degraded
    time.sleep(0.06)
    assert b.ready()
    b.succeeded()
    assert not b.degraded
