"""Redis: rate limits, request receipts and the forecast distributions shared by workers.

Values are opaque bytes here: what they mean belongs to `inference`, which reads them
through small interfaces (`inference.serving.Gate`, `inference.service.SharedForecasts`).

Each batch of requests costs two round trips, whatever its size: one script call per
request, pipelined, admits it (or finds its receipt), and one pipeline stores the new
receipts. Distributions are read and written only when a worker has no base for a
symbol's current inputs, about once per symbol and bar.

Redis being away degrades, never fails, the service (see the README): limits are kept
per worker in memory, receipts and shared distributions are skipped, and Redis is
tried again after `retry_s`.
"""
import logging
import time
from collections import deque

import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

WINDOW_MS = 60_000
TIERS_KEY = "tft:user_tiers"

# A sliding-window log: at most `limit` requests in any 60 s. A request answered before
# (its receipt exists) is not counted again. KEYS: tiers hash, receipt, user's log.
# ARGV: user, default tier, now (ms), member (the request id), then tier/limit pairs.
_ADMIT = """
local receipt = redis.call('GET', KEYS[2])
if receipt then return {2, 0, 0, receipt} end
local tier = redis.call('HGET', KEYS[1], ARGV[1]) or ARGV[2]
local limit, default = nil, nil
for i = 5, #ARGV, 2 do
  if ARGV[i] == tier then limit = tonumber(ARGV[i + 1]) end
  if ARGV[i] == ARGV[2] then default = tonumber(ARGV[i + 1]) end
end
limit = limit or default
if limit == 0 then return {1, 0, 0} end
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - %d)
if redis.call('ZCARD', KEYS[3]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  return {0, limit, tonumber(oldest[2]) + %d - now}
end
redis.call('ZADD', KEYS[3], now, ARGV[4])
redis.call('PEXPIRE', KEYS[3], %d)
return {1, limit, 0}
""" % (WINDOW_MS, WINDOW_MS, WINDOW_MS)


class SlidingWindow:
    """The same limit in process memory, for when Redis is away: per worker, not shared."""

    def __init__(self, window_s: float = WINDOW_MS / 1000):
        self.window_s = window_s
        self._seen: dict[str, deque[float]] = {}

    def admit(self, user: str, limit: int, now: float) -> tuple[bool, float]:
        """(allowed, seconds until one more would be) for one request at `now`."""
        if limit == 0:
            return True, 0.0
        log_ = self._seen.setdefault(user, deque())
        while log_ and log_[0] <= now - self.window_s:
            log_.popleft()
        if len(log_) >= limit:
            return False, log_[0] + self.window_s - now
        log_.append(now)
        return True, 0.0


class Backoff:
    """Whether to try Redis now: not for `retry_s` after it last failed."""

    def __init__(self, retry_s: float):
        self.retry_s = retry_s
        self.failed_at: float | None = None

    @property
    def degraded(self) -> bool:
        return self.failed_at is not None

    def ready(self) -> bool:
        return self.failed_at is None or time.monotonic() - self.failed_at >= self.retry_s

    def failed(self, what: str, error: Exception) -> None:
        if self.failed_at is None:
            log.warning("redis unavailable (%s: %s); degrading until it answers", what, error)
        self.failed_at = time.monotonic()

    def succeeded(self) -> None:
        if self.failed_at is not None:
            log.info("redis answers again")
        self.failed_at = None


class RedisGate:
    """Rate limits by tier (tiers in the hash `tft:user_tiers`) and request receipts."""

    def __init__(self, client: redis.Redis, limits: dict[str, int], default_tier: str,
                 receipt_ttl_s: int, backoff: Backoff):
        assert default_tier in limits, f"default tier {default_tier!r} has no limit"
        self.client = client
        self.limits = limits
        self.default_tier = default_tier
        self.receipt_ttl_s = receipt_ttl_s
        self.backoff = backoff
        self.local = SlidingWindow()
        self._script = client.register_script(_ADMIT)
        self._tiers = [x for tier, n in limits.items() for x in (tier, n)]

    async def set_tier(self, user: str, tier: str) -> None:
        """Raises KeyError for a tier with no limit, RedisError when Redis is away."""
        if tier not in self.limits:
            raise KeyError(f"unknown tier {tier!r}; tiers are {sorted(self.limits)}")
        await self.client.hset(TIERS_KEY, user, tier)

    async def admit(self, asks: list[tuple[str, str]]) -> list[tuple[bool, int, float, bytes | None]]:
        """For each (user, request id): (allowed, the tier's limit per minute, seconds until
        one more is allowed, the receipt stored for that request id or None)."""
        if self.backoff.ready():
            try:
                out = await self._admit_redis(asks)
                self.backoff.succeeded()
                return out
            except (RedisError, OSError) as e:
                self.backoff.failed("rate limit", e)
        limit = self.limits[self.default_tier]  # tiers live in Redis: every user is default now
        now = time.monotonic()
        out = []
        for user, _ in asks:
            allowed, wait = self.local.admit(user, limit, now)
            out.append((allowed, limit, wait, None))
        return out

    async def _admit_redis(self, asks: list[tuple[str, str]]) -> list[tuple[bool, int, float, bytes | None]]:
        now = int(time.time() * 1000)
        async with self.client.pipeline(transaction=False) as pipe:
            for user, request_id in asks:
                await self._script(keys=[TIERS_KEY, receipt_key(request_id), f"tft:rate:{user}"],
                                   args=[user, self.default_tier, now, request_id, *self._tiers],
                                   client=pipe)
            replies = await pipe.execute()
        return [(True, 0, 0.0, r[3]) if r[0] == 2 else (bool(r[0]), int(r[1]), max(0.0, int(r[2]) / 1000), None)
                for r in replies]

    async def remember(self, receipts: list[tuple[str, bytes]]) -> None:
        if not receipts or not self.backoff.ready():
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for request_id, body in receipts:
                    pipe.set(receipt_key(request_id), body, ex=self.receipt_ttl_s)
                await pipe.execute()
            self.backoff.succeeded()
        except (RedisError, OSError) as e:
            self.backoff.failed("receipts", e)


def receipt_key(request_id: str) -> str:
    return f"tft:receipt:{request_id}"


class SharedValues:
    """Bytes by key with a time to live: the forecast distributions workers share."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_s: int, backoff: Backoff):
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.backoff = backoff

    async def get_many(self, keys: list[str]) -> list[bytes | None]:
        if not self.backoff.ready():
            return [None] * len(keys)
        try:
            raw = await self.client.mget([self.prefix + k for k in keys])
            self.backoff.succeeded()
            return raw
        except (RedisError, OSError) as e:
            self.backoff.failed("shared forecasts", e)
            return [None] * len(keys)

    async def put_many(self, items: list[tuple[str, bytes]]) -> bool:
        """True when stored; False while Redis is away."""
        if not items or not self.backoff.ready():
            return not items
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, value in items:
                    pipe.set(self.prefix + key, value, ex=self.ttl_s)
                await pipe.execute()
            self.backoff.succeeded()
            return True
        except (RedisError, OSError) as e:
            self.backoff.failed("shared forecasts", e)
            return False
